using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// The DRO value network V_φ(x): its own T5 encoder (<c>shared.weight</c>, <c>encoder.*</c>), masked
/// mean pooling of the final encoder states over the prompt's real tokens, then
/// <c>value_head</c> = Linear(d_model → 1) with bias. It sees the prompt only. Kept separate from
/// the policy: the DRO paper found parameter sharing harmful. <see cref="OnEncoder"/> makes one that
/// runs the policy's own (frozen) embedding and encoder instead, for a base shared with the policy
/// where each has its own LoRA adapter; its parameters are then the head only.
/// </summary>
public sealed class T5ValueModel : IValueModel
{
    public T5Config Config { get; }
    public ParameterSet Parameters { get; } = new();
    public Tensor Shared { get; }
    public T5Stack Encoder { get; }
    /// <summary><c>value_head.weight</c> [1, d].</summary>
    public Tensor HeadWeight { get; }
    /// <summary><c>value_head.bias</c> [1].</summary>
    public Tensor HeadBias { get; }

    public T5ValueModel(T5Config config)
    {
        Config = config;
        Shared = Parameters.Create("shared.weight", new Shape(config.VocabSize, config.DModel));
        Encoder = new T5Stack(Parameters, "encoder", config, isDecoder: false);
        HeadWeight = Parameters.Create("value_head.weight", new Shape(1, config.DModel));
        HeadBias = Parameters.Create("value_head.bias", new Shape(1));
    }

    private T5ValueModel(T5Config config, Tensor shared, T5Stack encoder)
    {
        Config = config;
        Shared = shared;
        Encoder = encoder;
        HeadWeight = Parameters.Create("value_head.weight", new Shape(1, config.DModel));
        HeadBias = Parameters.Create("value_head.bias", new Shape(1));
    }

    /// <summary>
    /// A value model on <paramref name="policy"/>'s own <c>shared.weight</c> and encoder (not copied; the
    /// policy keeps owning them) with a head drawn as <see cref="FromPolicy"/> draws it.
    /// </summary>
    public static T5ValueModel OnEncoder(T5ForConditionalGeneration policy, DeterministicRandom rng)
    {
        var v = new T5ValueModel(policy.Config, policy.Shared, policy.Encoder);
        double std = T5Initialization.StdFor("value_head.weight", policy.Config);
        for (int i = 0; i < v.HeadWeight.Length; i++) v.HeadWeight[i] = (float)(rng.NextGaussian() * std);
        return v;
    }

    /// <summary>
    /// A value model whose encoder starts as a copy of the policy's (DESIGN §4 default) and whose
    /// head is drawn from N(0, d^-½) with bias 0.
    /// </summary>
    public static T5ValueModel FromPolicy(T5ForConditionalGeneration policy, DeterministicRandom rng)
    {
        var v = new T5ValueModel(policy.Config);
        foreach (var p in v.Parameters.All)
        {
            if (policy.Parameters.TryGet(p.Name!, out var src)) p.CopyFrom(src);
        }
        double std = T5Initialization.StdFor("value_head.weight", policy.Config);
        for (int i = 0; i < v.HeadWeight.Length; i++) v.HeadWeight[i] = (float)(rng.NextGaussian() * std);
        v.HeadBias.Clear();
        return v;
    }

    public void InitializeWeights(DeterministicRandom rng) => T5Initialization.Initialize(Parameters, Config, rng);

    public bool ReadsPolicyFeatures => false;

    /// <summary>V(xᵢ) [B] from the batch's prompts (encoder input).</summary>
    public Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput)
    {
        var b = T5ForConditionalGeneration.AsSeq2Seq(batch);
        return Forward(b.PromptIds, b.PromptMask);
    }

    public MatmulFlops ForwardFlops(SequenceBatch batch)
    {
        var b = T5ForConditionalGeneration.AsSeq2Seq(batch);
        return T5ForConditionalGeneration.EncoderFlops(Config, b.Size, b.PromptLength) + new MatmulFlops(2.0 * b.Size * Config.DModel, 0);
    }

    public void Save(string directory) => T5ModelFiles.Save(Config, Parameters, directory);

    /// <summary>ids: [B·P], mask: [B, P] → V(x): [B].</summary>
    public Tensor Forward(int[] ids, Tensor mask)
    {
        int b = mask.Shape[0], p = mask.Shape[1];
        var emb = Ops.Reshape(Ops.Embedding(Shared, ids), new Shape(b, p, Config.DModel));
        var hidden = Encoder.Forward(emb, mask);
        var pooled = Ops.MaskedMeanPool(hidden, mask);               // [B, d]
        var v = Ops.AddBias(Ops.Linear(pooled, HeadWeight), HeadBias); // [B, 1]
        return Ops.Reshape(v, new Shape(b));
    }

    public void Dispose() => Parameters.Dispose();
}
