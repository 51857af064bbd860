using DroSharp.Arena.Reports;
using System.Globalization;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// One arm of an experiment: a trainer objective with its settings and the name the report uses.
///
/// Written on the command line as a preset optionally followed by <c>:key=value</c> modifiers, e.g.
/// <c>dro-v</c>, <c>dro-v:tau=0.1</c>, <c>dro-v:value=single</c>, <c>kto-paper:beta=1</c>. Presets:
/// <list type="bullet">
/// <item><c>dro-v</c>: DRO-V, τ = 1, a separate value network with one value per example (the paper's default).</item>
/// <item><c>dro-p</c>: DRO-P (batch-variance value-free variant), τ = 1.</item>
/// <item><c>kto-trl</c> (alias <c>kto</c>): KTO with TRL's defaults: β = 0.1, λ_D = λ_U = 1, labels = the thumbs.</item>
/// <item><c>kto-paper</c>: KTO as run by the DRO paper: β = τ = 5, label = reward above the micro-batch mean.</item>
/// <item><c>sft-pos</c>: SFT on the thumbs-up responses only (rejection-sampling fine-tuning).</item>
/// <item><c>sft-all</c>: SFT on every sampled response (behaviour cloning of μ = π_ref; a control). The name <c>sft</c> is the SFT policy π_ref itself, the baseline of every comparison.</item>
/// <item><c>rpo</c>: RPO (needs several responses per prompt).</item>
/// </list>
/// Modifiers: <c>tau</c>, <c>beta</c>, <c>value</c> (per-example|single|shared), <c>label</c> (labels|batch-mean),
/// <c>lr</c> (this arm's learning rate instead of the experiment's shared one).
/// </summary>
public sealed record AlgorithmSpec
{
    /// <summary>The preset names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["dro-v", "dro-p", "kto-trl", "kto", "kto-paper", "sft-pos", "sft-all", "rpo"];

    /// <summary>Report name: the canonical preset followed by the modifiers that differ from it.</summary>
    public required string Name { get; init; }

    /// <summary>The preset it was built from (<c>kto</c> is reported as <c>kto-trl</c>).</summary>
    public required string Preset { get; init; }

    /// <summary>Trainer objective (<c>--algo</c>).</summary>
    public required string Objective { get; init; }

    public double Tau { get; init; } = 1.0;
    public double Beta { get; init; } = 0.1;
    public string Value { get; init; } = "per-example";
    public string KtoLabel { get; init; } = "labels";

    /// <summary>This arm's learning rate when it overrides the experiment's shared one (e.g. TRL's 1e-6 for KTO).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Where the arm is reported: <see cref="MainGroup"/>, <see cref="SweepGroup"/> or <see cref="ValueGroup"/>.</summary>
    public string Group { get; init; } = MainGroup;

    public const string MainGroup = "main";
    public const string SweepGroup = "sweep";
    public const string ValueGroup = "value";

    public bool IsDroV => Objective == "dro-v";
    public bool IsKto => Objective == "kto";
    public bool UsesTau => Objective is "dro-v" or "dro-p" or "rpo";
    public bool UsesBeta => Objective == "kto";

    /// <summary>The regularisation strength the τ/β sweep varies: τ for DRO and RPO, β for KTO, else null.</summary>
    public double? Regularisation => UsesTau ? Tau : UsesBeta ? Beta : null;

    /// <summary>Everything that changes training, so that two specs that train alike compare equal whatever their names.</summary>
    public string TrainingKey => string.Create(CultureInfo.InvariantCulture,
        $"{Objective}|{(UsesTau ? Tau : 0)}|{(UsesBeta ? Beta : 0)}|{(IsDroV ? Value : "")}|{(IsKto ? KtoLabel : "")}|{LearningRate}");

    /// <summary>Parses one arm (see the type's summary); a clear error naming the token otherwise.</summary>
    public static AlgorithmSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().ToLowerInvariant().Split(':', StringSplitOptions.TrimEntries);
        if (parts[0].Length == 0) throw new FormatException($"algorithm '{text}': empty name");
        if (parts[0] == "dpo")
            throw new FormatException("algorithm 'dpo' needs preference pairs; the arena collects single-trajectory feedback (one response, one rating)");
        var spec = FromPreset(parts[0])
            ?? throw new FormatException($"algorithm '{text}': unknown name '{parts[0]}'; expected one of {string.Join(", ", Presets)}, optionally with :tau=…, :beta=…, :value=…, :label=…, :lr=…");
        foreach (string modifier in parts.Skip(1))
        {
            int eq = modifier.IndexOf('=');
            if (eq <= 0 || eq == modifier.Length - 1) throw new FormatException($"algorithm '{text}': modifier '{modifier}' is not key=value");
            string key = modifier[..eq].Trim(), value = modifier[(eq + 1)..].Trim();
            spec = key switch
            {
                "tau" when spec.UsesTau => spec with { Tau = PositiveNumber(text, key, value) },
                "beta" when spec.UsesBeta => spec with { Beta = PositiveNumber(text, key, value) },
                "value" when spec.IsDroV => spec with { Value = OneOf(text, key, value, "per-example", "single", "shared") },
                "label" when spec.IsKto => spec with { KtoLabel = OneOf(text, key, value, "labels", "batch-mean") },
                "lr" => spec with { LearningRate = PositiveNumber(text, key, value) },
                "tau" or "beta" or "value" or "label" => throw new FormatException($"algorithm '{text}': '{key}' does not apply to {spec.Objective}"),
                _ => throw new FormatException($"algorithm '{text}': unknown modifier '{key}' (expected tau, beta, value, label or lr)"),
            };
        }
        return spec with { Name = CanonicalName(spec) };
    }

    /// <summary>Comma-separated arms, in order; duplicates (same training settings) are an error.</summary>
    public static IReadOnlyList<AlgorithmSpec> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var specs = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();
        if (specs.Count == 0) throw new FormatException("no algorithms given");
        var seen = new Dictionary<string, string>();
        foreach (var s in specs)
            if (!seen.TryAdd(s.TrainingKey, s.Name)) throw new FormatException($"algorithms '{seen[s.TrainingKey]}' and '{s.Name}' train the same way; give each once");
        return specs;
    }

    /// <summary>The same arm with τ (DRO, RPO) or β (KTO) replaced, renamed to match.</summary>
    public AlgorithmSpec WithRegularisation(double value)
    {
        var s = UsesTau ? this with { Tau = value } : UsesBeta ? this with { Beta = value } : throw new InvalidOperationException($"{Name} has no τ or β");
        return s with { Name = CanonicalName(s) };
    }

    /// <summary>The same DRO-V arm with another value parameterisation, renamed to match.</summary>
    public AlgorithmSpec WithValue(string value)
    {
        if (!IsDroV) throw new InvalidOperationException($"{Name} is not DRO-V");
        var s = this with { Value = value };
        return s with { Name = CanonicalName(s) };
    }

    private static AlgorithmSpec? FromPreset(string name) => name switch
    {
        "dro-v" => new AlgorithmSpec { Name = "dro-v", Preset = "dro-v", Objective = "dro-v" },
        "dro-p" => new AlgorithmSpec { Name = "dro-p", Preset = "dro-p", Objective = "dro-p" },
        "kto" or "kto-trl" => new AlgorithmSpec { Name = "kto-trl", Preset = "kto-trl", Objective = "kto", Beta = 0.1, KtoLabel = "labels" },
        "kto-paper" => new AlgorithmSpec { Name = "kto-paper", Preset = "kto-paper", Objective = "kto", Beta = 5.0, KtoLabel = "batch-mean" },
        "sft-pos" => new AlgorithmSpec { Name = "sft-pos", Preset = "sft-pos", Objective = "sft-pos" },
        "sft-all" => new AlgorithmSpec { Name = "sft-all", Preset = "sft-all", Objective = "sft" },
        "rpo" => new AlgorithmSpec { Name = "rpo", Preset = "rpo", Objective = "rpo" },
        _ => null,
    };

    private static string CanonicalName(AlgorithmSpec s)
    {
        var preset = FromPreset(s.Preset)!;
        var name = s.Preset;
        if (s.UsesTau && s.Tau != preset.Tau) name += ":tau=" + Number(s.Tau);
        if (s.UsesBeta && s.Beta != preset.Beta) name += ":beta=" + Number(s.Beta);
        if (s.IsDroV && s.Value != preset.Value) name += ":value=" + s.Value;
        if (s.IsKto && s.KtoLabel != preset.KtoLabel) name += ":label=" + s.KtoLabel;
        if (s.LearningRate is double lr) name += ":lr=" + lr.ToString("0.###e+0", CultureInfo.InvariantCulture);
        return name;
    }

    /// <summary>A short description for reports, e.g. "DRO-V, τ = 1, value per-example".</summary>
    public string Describe() => LearningRate is double lr
        ? DescribeObjective() + string.Create(CultureInfo.InvariantCulture, $", LR {SelectionReport.Lr(lr)}")
        : DescribeObjective();

    private string DescribeObjective() => Objective switch
    {
        "dro-v" => string.Create(CultureInfo.InvariantCulture, $"DRO-V, τ = {Number(Tau)}, value {Value}"),
        "dro-p" => string.Create(CultureInfo.InvariantCulture, $"DRO-P, τ = {Number(Tau)}"),
        "rpo" => string.Create(CultureInfo.InvariantCulture, $"RPO, τ = {Number(Tau)}"),
        "kto" => string.Create(CultureInfo.InvariantCulture, $"KTO, β = {Number(Beta)}, labels: {(KtoLabel == "labels" ? "thumbs" : "reward above the batch mean")}"),
        "sft-pos" => "SFT on the thumbs-up (or above-mean) responses",
        "sft" => "SFT on all sampled responses",
        _ => Objective,
    };

    internal static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static double PositiveNumber(string text, string key, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !(x > 0) || !double.IsFinite(x))
            throw new FormatException($"algorithm '{text}': {key} must be a positive number, not '{value}'");
        return x;
    }

    private static string OneOf(string text, string key, string value, params string[] allowed)
        => allowed.Contains(value) ? value : throw new FormatException($"algorithm '{text}': {key} must be one of {string.Join(", ", allowed)}, not '{value}'");
}
