namespace DroSharp.Arena.Reports;

/// <summary>
/// The choice of a regularisation strength (τ of DRO-V, β of KTO) among the arms of one family, each at its own
/// selected learning rate and step, by the same validation criterion; the test numbers of the chosen arm are
/// reported. Records every candidate's score so the choice can be checked.
/// </summary>
public sealed class StrengthChoice
{
    /// <summary>The family, e.g. "DRO-V (per-example value)" or "KTO (batch-mean labels)".</summary>
    public string Family { get; set; } = "";

    public string Criterion { get; set; } = "";

    /// <summary>The chosen arm's name.</summary>
    public string Chosen { get; set; } = "";

    public List<StrengthCandidate> Candidates { get; set; } = [];
}
