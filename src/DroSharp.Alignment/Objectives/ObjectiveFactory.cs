namespace DroSharp.Alignment.Objectives;

/// <summary>Builds an objective from its <c>--algo</c> name.</summary>
public static class ObjectiveFactory
{
    /// <summary>The accepted names, default first.</summary>
    public static IReadOnlyList<string> Names { get; } = ["dro-v", "dro-p", "kto", "sft", "sft-pos", "rpo", "dpo"];

    public static IAlignmentObjective Create(string name, ObjectiveOptions? options = null)
    {
        var o = options ?? new ObjectiveOptions();
        return name switch
        {
            "dro-v" => new DroVObjective(o.Tau, o.ValueMode, o.RescalePolicyGradient),
            "dro-p" => new DroPObjective(o.Tau, o.RescalePolicyGradient),
            "kto" => new KtoObjective(o.Beta, o.DesirableWeight, o.UndesirableWeight, o.KtoLabels),
            "sft" => new SftObjective(o.SftNormalization),
            "sft-pos" => new SftObjective(o.SftNormalization, positivesOnly: true),
            "rpo" => new RpoObjective(o.Tau),
            "dpo" => new DpoObjective(o.Beta),
            _ => throw new ArgumentException($"unknown objective '{name}'; expected one of: {string.Join(", ", Names)}", nameof(name)),
        };
    }
}
