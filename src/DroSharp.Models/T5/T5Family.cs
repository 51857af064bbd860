using DroSharp.Models.Checkpoints;
using DroSharp.Models.Values;
using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>The T5 family (<c>model_type</c> t5): v1.0, v1.1 and Flan-T5 encoder-decoders.</summary>
public sealed class T5Family : IModelFamily
{
    public static T5Family Instance { get; } = new();

    private T5Family() { }

    public string Name => "t5";

    public IReadOnlyList<string> ModelTypes { get; } = [T5Config.ModelTypeName];

    public IReadOnlyList<string> PresetNames => T5Presets.Names;

    public IModelConfig ParseConfig(string json, string source) => T5Config.Parse(json, source);

    public IModelConfig CreatePreset(string name, int? vocabSize = null) => T5Presets.Get(name, vocabSize);

    public IPolicyModel CreatePolicy(IModelConfig config) => new T5ForConditionalGeneration(Buildable(AsT5(config), "config.json"));

    public IPolicyModel LoadPolicy(string directory, IModelConfig config) =>
        T5ModelFiles.LoadPolicy(directory, Buildable(AsT5(config), Path.Combine(directory, CheckpointDirectory.ConfigFileName)));

    /// <summary>A config names an activation this T5 does not implement: a format error naming the key, before anything is allocated.</summary>
    private static T5Config Buildable(T5Config config, string source) => T5Config.SupportedActivations.Contains(config.DenseActFn)
        ? config
        : throw new CheckpointFormatException(source, "dense_act_fn",
            $"\"{config.DenseActFn}\" is not an activation DroSharp's T5 implements (it does {string.Join(" and ", T5Config.SupportedActivations)})");

    public IValueModel CreateValueModel(IPolicyModel policy, ValueModelKind kind, DeterministicRandom rng)
    {
        var t5 = policy as T5ForConditionalGeneration ?? throw new ArgumentException($"a T5 value model needs a T5 policy, not {policy.GetType().Name}");
        return kind switch
        {
            ValueModelKind.OwnBackbone => T5ValueModel.FromPolicy(t5, rng),
            ValueModelKind.Scalar => new ScalarValueModel(t5.Config),
            ValueModelKind.SharedBackbone => new SharedBackboneValueModel(t5.Config, rng, T5Initialization.StdFor("value_head.weight", t5.Config)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown value model kind"),
        };
    }

    public SharedBaseValue CreateValueModelOnBase(IPolicyModel policy, DeterministicRandom rng)
    {
        var t5 = policy as T5ForConditionalGeneration ?? throw new ArgumentException($"a T5 value model needs a T5 policy, not {policy.GetType().Name}");
        // The value reads the prompt through the encoder only.
        var linears = t5.Parameters.Linears.Where(l => l.Name.StartsWith("encoder.", StringComparison.Ordinal)).ToList();
        return new SharedBaseValue(T5ValueModel.OnEncoder(t5, rng), linears);
    }

    public string PeftTaskType => "SEQ_2_SEQ_LM";

    private static T5Config AsT5(IModelConfig config) =>
        config as T5Config ?? throw new ArgumentException($"the T5 family cannot build a model from a {config.GetType().Name}");
}
