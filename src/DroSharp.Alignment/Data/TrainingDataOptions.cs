namespace DroSharp.Alignment.Data;

/// <summary>Everything <see cref="TrainingDataLoader"/> needs; the names follow the <c>dro train</c> options.</summary>
public sealed record TrainingDataOptions
{
    /// <summary><c>--data</c>.</summary>
    public required string DataPath { get; init; }

    /// <summary><c>--eval-data</c>; exclusive with <see cref="EvalFraction"/>.</summary>
    public string? EvalDataPath { get; init; }

    /// <summary><c>--eval-fraction</c>: hold out this share of the training file, by prompt, seeded.</summary>
    public double? EvalFraction { get; init; }

    /// <summary>Layout of both files (Auto: from each file's extension).</summary>
    public DataFileFormat Format { get; init; } = DataFileFormat.Auto;

    /// <summary><c>--seed</c>: drives the eval split (and, through the trainer, the sampler).</summary>
    public ulong Seed { get; init; }

    /// <summary><c>--skip-bad-rows</c>.</summary>
    public bool SkipBadRows { get; init; }

    /// <summary><c>--max-prompt-length</c> in tokens (keeps the end); null for no limit.</summary>
    public int? MaxPromptLength { get; init; }

    /// <summary><c>--max-completion-length</c> in tokens (keeps the start); null for no limit.</summary>
    public int? MaxCompletionLength { get; init; }

    /// <summary><c>--normalize-rewards</c>: z-normalise over the training split (the DRO paper's setting).</summary>
    public bool NormalizeRewards { get; init; } = true;

    /// <summary>The reward of a thumbs-up label.</summary>
    public double UpReward { get; init; } = 1.0;

    /// <summary>The reward of a thumbs-down label.</summary>
    public double DownReward { get; init; } = 0.0;

    /// <summary>The model's BOS id, kept at the start of a truncated prompt (null: none).</summary>
    public int? BosId { get; init; }

    /// <summary>End-of-sequence ids kept at the end of a truncated completion.</summary>
    public IReadOnlyList<int> EndIds { get; init; } = [];

    /// <summary>The model's vocabulary size: a token id at or above it is a bad row (null: not checked).</summary>
    public int? VocabSize { get; init; }

    /// <summary>What the method needs; decides accepted kinds and conversions.</summary>
    public DataRequirement Requirement { get; init; } = DataRequirement.Feedback;

    /// <summary>The method's name for messages, e.g. "dro-v" or "dpo".</summary>
    public string Purpose { get; init; } = "training";
}
