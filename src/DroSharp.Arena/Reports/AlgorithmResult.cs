namespace DroSharp.Arena.Reports;

/// <summary>The runs of one algorithm (<c>dro-v</c>, <c>kto</c>, <c>sft</c>…), one per seed.</summary>
public sealed class AlgorithmResult
{
    public string Name { get; set; } = "";

    /// <summary>Human description of the settings (e.g. "DRO-V, τ = 1, value per-example"), if known.</summary>
    public string? Description { get; set; }

    /// <summary>Trainer objective (<c>dro-v</c>, <c>kto</c>, <c>sft-pos</c>…); null for the SFT baseline.</summary>
    public string? Objective { get; set; }

    /// <summary>τ of DRO/RPO or β of KTO, when the objective has one.</summary>
    public double? Regularisation { get; set; }

    /// <summary>DRO-V value parameterisation (<c>per-example</c>, <c>single</c>, <c>shared</c>).</summary>
    public string? Value { get; set; }

    /// <summary>KTO labels (<c>labels</c>, <c>batch-mean</c>).</summary>
    public string? KtoLabel { get; set; }

    /// <summary>This algorithm's learning rate when it differs from the experiment's shared one.</summary>
    public double? LearningRate { get; set; }

    /// <summary>
    /// Which part of the report shows it: null or <c>main</c> (the main table and the curves),
    /// <c>sweep</c> (the τ/β table), <c>value</c> (the value ablation).
    /// </summary>
    public string? Group { get; set; }

    /// <summary>
    /// One entry per seed at the selected learning rate and step; empty when no setting of the grid could be
    /// selected (every one failed on some seed; see <see cref="Failures"/>).
    /// </summary>
    public List<SeedResult> Seeds { get; set; } = [];

    /// <summary>How the learning rate and step were chosen on validation prompts; null in results written before selection existed.</summary>
    public SelectionResult? Selection { get; set; }

    /// <summary>Runs of this algorithm that diverged or could not start, with their seed, learning rate and step.</summary>
    public List<RunFailure> Failures { get; set; } = [];
}
