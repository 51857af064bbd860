using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DroSharp.Alignment.Data;

/// <summary>
/// What one split holds after reading and preparation: row counts, feedback balance, reward statistics (before
/// normalisation) and the normalisation applied, prompt grouping, token lengths and truncation, skipped rows and
/// warnings. <see cref="ToString"/> prints it for people; <see cref="ToJson"/> writes it for the run directory.
/// </summary>
public sealed record DatasetSummary
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>"train" or "eval".</summary>
    public required string Split { get; init; }

    public required string File { get; init; }

    /// <summary>json, csv or tsv.</summary>
    public required string Format { get; init; }

    /// <summary>labelled, scored, pairs or prompt-completion: the kind used for training.</summary>
    public required string Kind { get; init; }

    /// <summary>The kind the file held when it was converted (pairs split into labelled rows), else null.</summary>
    public string? ConvertedFrom { get; init; }

    /// <summary>Non-blank rows read from the file (before any split).</summary>
    public int RowsRead { get; init; }

    /// <summary>Rows left out under skip-bad-rows (for the whole file, before any split).</summary>
    public int SkippedRows { get; init; }

    /// <summary>Examples (or pairs) in this split.</summary>
    public int Examples { get; init; }

    public int? LabelsUp { get; init; }

    public int? LabelsDown { get; init; }

    /// <summary>The rewards before normalisation (labels mapped to their values), or null without feedback.</summary>
    public RewardStatistics? Rewards { get; init; }

    public bool RewardsNormalized { get; init; }

    /// <summary>The training-set mean and std used for z = (r − mean) / std (also for the eval split).</summary>
    public double? NormalizationMean { get; init; }

    public double? NormalizationStd { get; init; }

    public int DistinctPrompts { get; init; }

    public int PromptsWithSeveralResponses { get; init; }

    public int MaxResponsesPerPrompt { get; init; }

    public double PromptTokensMean { get; init; }

    public int PromptTokensMax { get; init; }

    public double CompletionTokensMean { get; init; }

    public int CompletionTokensMax { get; init; }

    public int? MaxPromptLength { get; init; }

    public int? MaxCompletionLength { get; init; }

    public required TruncationCounts Truncation { get; init; }

    /// <summary>Rows (or pairs) that were chat messages, rendered with the model's chat template; null for plain data.</summary>
    public int? ConversationalRows { get; init; }

    /// <summary>Conversational rows whose prompt TRL's common-prefix rule shortened (the template renders it differently inside the whole conversation).</summary>
    public int? PromptsCutToCommonPrefix { get; init; }

    /// <summary>Conversational rows where prompt tokens ⧺ completion tokens differ from the tokens of the whole rendered conversation.</summary>
    public int? SplitTokenizationMismatches { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string converted = ConvertedFrom is null ? "" : $", from {ConvertedFrom}";
        sb.Append(c, $"{Split}: {File} ({Format}, {Kind}{converted})\n");
        sb.Append(c, $"  rows read {RowsRead}, skipped {SkippedRows}, {(Kind == "pairs" ? "pairs" : "examples")} in this split {Examples}\n");
        if (LabelsUp is int up && LabelsDown is int down)
            sb.Append(c, $"  labels: {up} up, {down} down\n");
        if (Rewards is { } r)
        {
            sb.Append(c, $"  rewards: mean {r.Mean:G6}, std {r.Std:G6}, min {r.Min:G6}, max {r.Max:G6}");
            sb.Append(RewardsNormalized
                ? string.Create(c, $"; z-normalised with mean {NormalizationMean:G6}, std {NormalizationStd:G6}\n")
                : "; not normalised\n");
        }
        sb.Append(c, $"  prompts: {DistinctPrompts} distinct, {PromptsWithSeveralResponses} with several responses (at most {MaxResponsesPerPrompt})\n");
        sb.Append(c, $"  tokens: prompt mean {PromptTokensMean:F1}, max {PromptTokensMax}; {(Kind == "pairs" ? "response" : "completion")} mean {CompletionTokensMean:F1}, max {CompletionTokensMax}\n");
        var t = Truncation;
        sb.Append(c, $"  truncated: {t.PromptsTruncated} of {t.Prompts} prompts");
        if (MaxPromptLength is int mp) sb.Append(c, $" (to their last {mp} tokens, {t.PromptTokensDropped} tokens dropped)");
        sb.Append(c, $", {t.CompletionsTruncated} of {t.Completions} completions");
        if (MaxCompletionLength is int mc) sb.Append(c, $" (to their first {mc} tokens, {t.CompletionTokensDropped} tokens dropped)");
        sb.Append('\n');
        if (ConversationalRows is int conv)
            sb.Append(c, $"  conversations: {conv} rendered with the chat template; {PromptsCutToCommonPrefix} prompts cut to the common prefix, {SplitTokenizationMismatches} with prompt/completion tokens that differ from the whole's\n");
        foreach (var w in Warnings) sb.Append("  warning: ").Append(w).Append('\n');
        return sb.ToString();
    }
}
