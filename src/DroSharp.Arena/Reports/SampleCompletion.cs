namespace DroSharp.Arena.Reports;

/// <summary>One example response of an algorithm on an evaluation prompt, with its true reward.</summary>
public sealed class SampleCompletion
{
    public string Algorithm { get; set; } = "";

    public string Prompt { get; set; } = "";

    public string Completion { get; set; } = "";

    public double Reward { get; set; }
}
