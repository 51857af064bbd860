using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// DRO's value network for a decoder-only policy: its own backbone (<c>model.*</c>, a copy of the
/// policy's at the start) run on the prompt alone, and <c>value_head</c> = Linear(hidden → 1) with bias
/// on the final-normed hidden state of the last prompt token (the sequence-classification convention).
/// <see cref="OnBackbone"/> makes one that runs the policy's own backbone instead (a frozen base shared
/// with the policy; its parameters are then the head only).
/// </summary>
public sealed class DecoderValueModel : IValueModel
{
    private readonly DecoderConfig _config;

    public DecoderValueModel(DecoderConfig config)
    {
        _config = config;
        Model = new DecoderModel(Parameters, "model", config);
        HeadWeight = Parameters.Create("value_head.weight", new Shape(1, config.HiddenSize));
        HeadBias = Parameters.Create("value_head.bias", new Shape(1));
    }

    private DecoderValueModel(DecoderConfig config, DecoderModel backbone)
    {
        _config = config;
        Model = backbone;
        HeadWeight = Parameters.Create("value_head.weight", new Shape(1, config.HiddenSize));
        HeadBias = Parameters.Create("value_head.bias", new Shape(1));
    }

    public ParameterSet Parameters { get; } = new();
    public DecoderModel Model { get; }
    public Tensor HeadWeight { get; }
    public Tensor HeadBias { get; }

    public bool ReadsPolicyFeatures => false;

    /// <summary>A value model whose backbone is a copy of <paramref name="policy"/>'s and whose head is N(0, initializer_range), bias 0.</summary>
    public static DecoderValueModel FromPolicy(DecoderForCausalLM policy, DeterministicRandom rng)
    {
        var v = new DecoderValueModel(policy.Config);
        foreach (var p in v.Parameters.All)
            if (policy.Parameters.TryGet(p.Name!, out var src)) p.CopyFrom(src);
        for (int i = 0; i < v.HeadWeight.Length; i++) v.HeadWeight[i] = (float)(rng.NextGaussian() * policy.Config.InitializerRange);
        return v;
    }

    /// <summary>
    /// A value model on <paramref name="policy"/>'s own backbone (not copied; the policy keeps owning it)
    /// with a head drawn as <see cref="FromPolicy"/> draws it.
    /// </summary>
    public static DecoderValueModel OnBackbone(DecoderForCausalLM policy, DeterministicRandom rng)
    {
        var v = new DecoderValueModel(policy.Config, policy.Model);
        for (int i = 0; i < v.HeadWeight.Length; i++) v.HeadWeight[i] = (float)(rng.NextGaussian() * policy.Config.InitializerRange);
        return v;
    }

    public Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput)
    {
        var b = DecoderForCausalLM.AsCausal(batch);
        // The prompts alone, right-padded: causal attention makes the last prompt token's state the same as in the full row.
        int p = b.PromptLengths.Max();
        var ids = new int[b.Size * p];
        var positions = new int[b.Size * p];
        for (int i = 0; i < b.Size; i++)
            for (int j = 0; j < p; j++)
            {
                ids[i * p + j] = j < b.PromptLengths[i] ? b.InputIds[i * b.Length + j] : b.InputIds[i * b.Length + b.PromptLengths[i] - 1];
                positions[i * p + j] = j;
            }
        Tensor? mask = null;
        if (b.PromptLengths.Any(l => l < p))
        {
            mask = Tensors.Autograd.Tape.NewZeros(new Shape(b.Size, p));
            for (int i = 0; i < b.Size; i++) for (int j = 0; j < b.PromptLengths[i]; j++) mask[i * p + j] = 1f;
        }
        var hidden = Model.Forward(ids, positions, b.Size, mask, b.PromptLengths);
        var last = Enumerable.Range(0, b.Size).Select(i => i * p + b.PromptLengths[i] - 1).ToArray();
        var features = Ops.GatherRows(Ops.Reshape(hidden, new Shape(b.Size * p, _config.HiddenSize)), last);
        return Ops.Reshape(Ops.AddBias(Ops.Linear(features, HeadWeight), HeadBias), new Shape(b.Size));
    }

    public MatmulFlops ForwardFlops(SequenceBatch batch)
    {
        var b = DecoderForCausalLM.AsCausal(batch);
        return Model.ForwardFlops(b.Size, b.PromptLengths.Max(), b.PromptLengths) + new MatmulFlops(2.0 * b.Size * _config.HiddenSize, 0);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        CheckpointDirectory.SaveWeights(directory, Parameters.All, SafetensorsDtype.F32);
        _config.Save(Path.Combine(directory, CheckpointDirectory.ConfigFileName));
    }

    public void Dispose() => Parameters.Dispose();
}
