using System.Text.Json.Serialization;

namespace DroSharp.Alignment.Training;

/// <summary>
/// A health warning of a run (one line of <c>warnings.jsonl</c>): which check fired (<see cref="Code"/>),
/// at which step, the measured value and the threshold it crossed, and the one-line message printed on stderr.
/// </summary>
public sealed record RunWarning(
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("threshold")] double Threshold,
    [property: JsonPropertyName("message")] string Message)
{
    public const string LogRatioDrift = "logratio_drift";
    public const string KlHigh = "kl_high";
    public const string EosRateLow = "eos_rate_low";
    public const string LengthChanged = "length_changed";
    public const string LossHigh = "loss_high";
    public const string GradientVanished = "gradient_vanished";
    public const string WarmupTooLong = "warmup_too_long";
    public const string UntrainedPolicy = "untrained_policy";

    /// <summary>Every code, in the order the checks are described in the README.</summary>
    public static IReadOnlyList<string> Codes { get; } = [LogRatioDrift, KlHigh, EosRateLow, LengthChanged, LossHigh, GradientVanished, WarmupTooLong, UntrainedPolicy];

    public override string ToString() => $"warning: step {Step}: {Message}";
}
