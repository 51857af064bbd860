using System.Text.Json.Nodes;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Named sets of defaults for <c>dro train --profile</c>. A profile only fills options the user did
/// not give (the command line and <c>--config</c> win), and its name is recorded in <c>run.json</c>.
/// <list type="bullet">
/// <item><c>default</c>: <see cref="TrainingOptions"/>' own defaults, measured on the arena (docs/results.md).</item>
/// <item><c>paper</c>: the DRO paper's protocol (Richemond et al. 2024, §4 / algorithms.md §3.5): Adafactor
/// (decay rate −0.8), LR 1e-4 for the policy and the value network, 150 warmup steps, batch 32, τ = 1.</item>
/// </list>
/// </summary>
public static class TrainingProfiles
{
    public const string Default = "default";
    public const string Paper = "paper";

    public static IReadOnlyList<string> Names { get; } = [Default, Paper];

    /// <summary>The options (JSON keys of <c>run.json</c>) a profile sets; empty for <c>default</c>.</summary>
    public static IReadOnlyDictionary<string, JsonNode> Values(string profile) => profile switch
    {
        Default => new Dictionary<string, JsonNode>(),
        Paper => new Dictionary<string, JsonNode>
        {
            ["tau"] = JsonValue.Create(1.0),
            ["lr"] = JsonValue.Create(1e-4),
            ["optimizer"] = JsonValue.Create("adafactor"),
            ["warmup_steps"] = JsonValue.Create(150),
            ["batch_size"] = JsonValue.Create(32),
            ["grad_accum"] = JsonValue.Create(1),
        },
        _ => throw new TrainingException($"--profile must be one of {string.Join(", ", Names)}, not '{profile}'"),
    };

    /// <summary>
    /// Fills <paramref name="options"/> (run.json keys given by the user) with the profile's values
    /// for the keys not given, and records the profile.
    /// </summary>
    public static void Apply(JsonObject options, string profile)
    {
        foreach (var (key, value) in Values(profile))
            if (!options.ContainsKey(key)) options[key] = value.DeepClone();
        options["profile"] = profile;
    }
}
