using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// A model family (T5; the decoder-only family), found by <c>config.json</c>'s <c>model_type</c>
/// through <see cref="ModelFamilies"/>: it reads its config (refusing keys that change the numerics
/// and that it does not implement, by name), names its presets, and creates, loads and saves its
/// policy and value models. A family lives in one folder of DroSharp.Models.
/// </summary>
public interface IModelFamily
{
    /// <summary>Short name, e.g. <c>t5</c>.</summary>
    string Name { get; }

    /// <summary>The <c>model_type</c> values it reads.</summary>
    IReadOnlyList<string> ModelTypes { get; }

    /// <summary>Preset names for <c>dro init --preset</c>.</summary>
    IReadOnlyList<string> PresetNames { get; }

    /// <summary>
    /// Parses a config.json text. Throws <see cref="Checkpoints.CheckpointFormatException"/> naming
    /// <paramref name="source"/> and the offending key.
    /// </summary>
    IModelConfig ParseConfig(string json, string source);

    /// <summary>A preset's config; <paramref name="vocabSize"/> replaces its vocabulary size.</summary>
    IModelConfig CreatePreset(string name, int? vocabSize = null);

    /// <summary>A policy with zeroed weights.</summary>
    IPolicyModel CreatePolicy(IModelConfig config);

    /// <summary>Reads the weights of an HF model directory into a policy built from <paramref name="config"/>.</summary>
    IPolicyModel LoadPolicy(string directory, IModelConfig config);

    /// <summary>
    /// A value model V(x) for <paramref name="policy"/>: <see cref="Values.ValueModelKind.OwnBackbone"/> is
    /// DRO's default, a copy of the policy's backbone with a fresh head drawn from <paramref name="rng"/>
    /// (T5: mean over the prompt's encoder states; a decoder: the last prompt token); the other kinds
    /// are the paper's ablations, with the family's initialisation for their head.
    /// </summary>
    IValueModel CreateValueModel(IPolicyModel policy, Values.ValueModelKind kind, DeterministicRandom rng);

    /// <summary>
    /// DRO's per-prompt value V(x) on <paramref name="policy"/>'s own modules, not a copy of them (for a
    /// frozen base shared with the policy, each with its own LoRA adapter): the family's head (T5: mean
    /// over the prompt's encoder states; a decoder: the last prompt token), drawn from <paramref name="rng"/>
    /// as <see cref="CreateValueModel"/> draws it. The value's parameters are the head only;
    /// <see cref="Values.SharedBaseValue.Linears"/> lists the policy's Linear modules its forward runs through.
    /// </summary>
    Values.SharedBaseValue CreateValueModelOnBase(IPolicyModel policy, DeterministicRandom rng);

    /// <summary>PEFT's <c>task_type</c> of the family's policy: <c>CAUSAL_LM</c> or <c>SEQ_2_SEQ_LM</c>.</summary>
    string PeftTaskType { get; }
}
