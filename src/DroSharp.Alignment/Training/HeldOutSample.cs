using System.Text.Json.Serialization;

namespace DroSharp.Alignment.Training;

/// <summary>
/// One line of <c>samples.jsonl</c>: a completion sampled at an evaluation step from the policy
/// (<c>source</c> "policy") or, at step 0, from π_ref ("reference"), with log π − log π_ref of it
/// (0 for the reference's own samples).
/// </summary>
public sealed record HeldOutSample
{
    public const string Policy = "policy";
    public const string Reference = "reference";

    [JsonPropertyName("step")] public long Step { get; init; }
    [JsonPropertyName("source")] public string Source { get; init; } = Policy;
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("prompt_ids")] public int[] PromptIds { get; init; } = [];
    [JsonPropertyName("completion_ids")] public int[] CompletionIds { get; init; } = [];
    /// <summary>The completion ended with a stop id (false: cut at the token limit).</summary>
    [JsonPropertyName("finished")] public bool Finished { get; init; }
    [JsonPropertyName("logratio")] public double LogRatio { get; init; }
}
