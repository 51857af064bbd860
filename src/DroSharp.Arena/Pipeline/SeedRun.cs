using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Pipeline;

/// <summary>Everything one seed of an experiment produced before selection: π_ref's evaluations and every arm's candidates.</summary>
internal sealed class SeedRun
{
    public required ulong Seed { get; init; }

    public required string Directory { get; init; }

    /// <summary>π_ref on the validation prompts (samples only).</summary>
    public required PolicyEvaluation SftValidation { get; init; }

    /// <summary>π_ref on the test prompts (samples and greedy).</summary>
    public required PolicyEvaluation SftTest { get; init; }

    public required double SftSeconds { get; init; }

    /// <summary>One per arm of the configuration, in its order.</summary>
    public List<ArmRun> Arms { get; } = [];

    public List<OptimumEstimate> Optimum { get; } = [];
}

/// <summary>One arm on one seed: its runs (one per learning rate), every evaluated checkpoint, and the runs that failed.</summary>
internal sealed class ArmRun
{
    public required AlgorithmSpec Spec { get; init; }

    /// <summary>Every checkpoint evaluated with finite numbers, by (learning rate, step).</summary>
    public SortedDictionary<CandidateKey, CandidateEvaluation> Candidates { get; } = [];

    public List<RunFailure> Failures { get; } = [];

    /// <summary>Training seconds per learning rate.</summary>
    public Dictionary<double, double> TrainSeconds { get; } = [];

    /// <summary>Training loss at each logged step, per learning rate.</summary>
    public Dictionary<double, Dictionary<long, double>> Losses { get; } = [];

    /// <summary>The run directory of each learning rate.</summary>
    public Dictionary<double, string> RunDirectories { get; } = [];
}

/// <summary>A checkpoint on the validation prompts (samples only) and on the test prompts (samples, greedy, KL).</summary>
internal sealed record CandidateEvaluation(PolicyEvaluation Validation, double ValidationWinRate, PolicyEvaluation Test);
