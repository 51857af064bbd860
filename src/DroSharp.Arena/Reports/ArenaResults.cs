namespace DroSharp.Arena.Reports;

/// <summary>
/// Everything an arena experiment produced, as written to <c>results.json</c> (snake_case) and read by
/// <see cref="ReportWriter"/>. Reported metrics are on the task's test prompts; settings were chosen on its validation prompts.
/// </summary>
public sealed class ArenaResults
{
    /// <summary>Task name (<c>sentiment</c>, <c>arithmetic</c>).</summary>
    public string Task { get; set; } = "";

    public string? TaskDescription { get; set; }

    /// <summary>ISO 8601 UTC time of the run, if the runner records it (left out to keep outputs reproducible).</summary>
    public string? CreatedUtc { get; set; }

    /// <summary>Run configuration as text (model size, steps, τ, feedback c and s…), shown as a table.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>Fixed levels drawn as dashed lines on reward plots (demonstrations' mean, best achievable…).</summary>
    public List<ReferenceValue> References { get; set; } = [];

    /// <summary>One entry per algorithm, in the order the report shows them. The SFT baseline is one of them.</summary>
    public List<AlgorithmResult> Algorithms { get; set; } = [];

    /// <summary>Direct comparisons between two algorithms (e.g. DRO-V against KTO), per seed.</summary>
    public List<HeadToHeadResult> HeadToHead { get; set; } = [];

    /// <summary>A few example completions on test prompts.</summary>
    public List<SampleCompletion> Samples { get; set; } = [];

    /// <summary>Choices of τ and β made on validation prompts (the arms compared head to head as "best").</summary>
    public List<StrengthChoice> StrengthChoices { get; set; } = [];

    /// <summary>Estimates of the KL-regularised optimum π* per seed and τ, on the test prompts.</summary>
    public List<OptimumEstimate> Optimum { get; set; } = [];
}
