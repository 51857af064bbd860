namespace DroSharp.Tensors.Modules;

/// <summary>
/// PyTorch's <c>nn.Linear</c>: y = x·Wᵀ (+ b). x: [..., in] → y: [..., out]; <see cref="Weight"/> is
/// [out, in] named <c>{Name}.weight</c>, <see cref="Bias"/> [out] named <c>{Name}.bias</c>. Every
/// projection of every model family is one of these, so that adapters (LoRA) and frozen
/// low-precision weights attach in one place. <see cref="Name"/> is the module path
/// (e.g. <c>model.layers.0.self_attn.q_proj</c>), the name PEFT's <c>target_modules</c> match.
/// </summary>
public sealed class Linear
{
    /// <summary>Creates the parameters in <paramref name="parameters"/> (zeroed) and registers the module there.</summary>
    public Linear(ParameterSet parameters, string name, int inFeatures, int outFeatures, bool bias = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear {name}: {inFeatures} → {outFeatures} features");
        Name = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = parameters.Create(name + ".weight", new Shape(outFeatures, inFeatures));
        if (bias) Bias = parameters.Create(name + ".bias", new Shape(outFeatures));
        parameters.Register(this);
    }

    /// <summary>The module path, without <c>.weight</c>.</summary>
    public string Name { get; }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>W [out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>b [out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>x: [..., in] → x·Wᵀ + b: [..., out], recorded on the current tape.</summary>
    public Tensor Forward(Tensor x)
    {
        var y = Ops.Linear(x, Weight);
        return Bias is null ? y : Ops.AddBias(y, Bias);
    }

    public override string ToString() => $"Linear({Name}: {InFeatures} → {OutFeatures}{(Bias is null ? "" : ", bias")})";
}
