using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Lora;

/// <summary>
/// Which Linear modules get an adapter, as PEFT's <c>check_target_module_exists</c> decides for a list
/// of <c>target_modules</c>: a module path matches an entry when it equals it or ends with
/// <c>"." + entry</c> (so <c>q_proj</c> matches <c>model.layers.0.self_attn.q_proj</c>, and
/// <c>self_attn.q_proj</c> does too). <see cref="AllLinear"/> selects every Linear module except the
/// output head (DroSharp's LM heads are not Linear modules, so: every Linear module).
/// </summary>
public static class LoraTargets
{
    public const string AllLinear = "all-linear";

    /// <summary>PEFT's list rule: equal, or a suffix after a dot.</summary>
    public static bool Matches(IReadOnlyList<string> targets, string modulePath)
    {
        foreach (string t in targets)
            if (modulePath == t || (modulePath.Length > t.Length && modulePath.EndsWith(t, StringComparison.Ordinal) && modulePath[^(t.Length + 1)] == '.'))
                return true;
        return false;
    }

    public static bool IsAllLinear(IReadOnlyList<string> targets) => targets.Count == 1 && targets[0] == AllLinear;

    /// <summary>
    /// The modules of <paramref name="linears"/> that <paramref name="targets"/> select. Throws when none
    /// is selected, naming the modules' last name components.
    /// </summary>
    public static IReadOnlyList<Linear> Select(IReadOnlyList<Linear> linears, IReadOnlyList<string> targets)
    {
        if (targets.Count == 0) throw new ArgumentException("no LoRA target modules given (use all-linear or names such as q_proj,v_proj)");
        if (targets.Count > 1 && targets.Contains(AllLinear)) throw new ArgumentException($"{AllLinear} cannot be combined with module names");
        var selected = IsAllLinear(targets) ? linears.ToList() : linears.Where(l => Matches(targets, l.Name)).ToList();
        if (selected.Count == 0)
            throw new ArgumentException($"the LoRA targets {string.Join(",", targets)} match none of the model's Linear modules " +
                                        $"(their names end in: {string.Join(", ", LastComponents(linears))})");
        return selected;
    }

    /// <summary>
    /// target_modules as PEFT saves them: the given names, or for <see cref="AllLinear"/> the last name
    /// components of the selected modules (PEFT's <c>_maybe_include_all_linear_layers</c>), sorted.
    /// </summary>
    public static IReadOnlyList<string> SavedNames(IReadOnlyList<string> targets, IReadOnlyList<Linear> selected) =>
        IsAllLinear(targets) ? LastComponents(selected) : targets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private static List<string> LastComponents(IEnumerable<Linear> linears) =>
        linears.Select(l => l.Name[(l.Name.LastIndexOf('.') + 1)..]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Parses a comma-separated list (<c>q_proj,v_proj</c> or <c>all-linear</c>).</summary>
    public static IReadOnlyList<string> Parse(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
