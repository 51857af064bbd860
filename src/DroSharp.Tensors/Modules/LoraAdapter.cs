namespace DroSharp.Tensors.Modules;

/// <summary>
/// One named LoRA adapter of a <see cref="Linear"/> (PEFT's <c>lora_A[name]</c>, <c>lora_B[name]</c>):
/// y = W·x (+ b) + scale·B·A·dropout(x) with <see cref="A"/> [r, in] and <see cref="B"/> [out, r],
/// scale = α/r, or α/√r with rsLoRA. Its tensors are parameters of whichever <see cref="ParameterSet"/>
/// trains it, named <c>{module}.lora_A.{adapter}.weight</c> and <c>{module}.lora_B.{adapter}.weight</c>
/// (PEFT's in-memory names without its <c>base_model.model.</c> prefix).
/// </summary>
public sealed class LoraAdapter
{
    internal LoraAdapter(Linear module, string name, Tensor a, Tensor b, int rank, double alpha, float dropout, bool useRsLora)
    {
        Module = module;
        Name = name;
        A = a;
        B = b;
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
        UseRsLora = useRsLora;
        Scale = (float)(useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank);
        NameHash = Linear.Fnv1a(name);
    }

    /// <summary>The module it adapts.</summary>
    public Linear Module { get; }

    /// <summary>The adapter's name (e.g. <c>policy</c>, <c>value</c>).</summary>
    public string Name { get; }

    /// <summary>lora_A [r, in].</summary>
    public Tensor A { get; }

    /// <summary>lora_B [out, r].</summary>
    public Tensor B { get; }

    /// <summary>r.</summary>
    public int Rank { get; }

    /// <summary>lora_alpha.</summary>
    public double Alpha { get; }

    /// <summary>Dropout probability on the adapter's input while it trains.</summary>
    public float Dropout { get; }

    public bool UseRsLora { get; }

    /// <summary>α/r, or α/√r with rsLoRA (PEFT's <c>scaling</c>).</summary>
    public float Scale { get; }

    internal ulong NameHash { get; }

    /// <summary>
    /// PEFT's initialisation (<c>init_lora_weights=True</c>): A by <c>kaiming_uniform_(a=√5)</c>, i.e.
    /// U(−1/√in, 1/√in) (gain √(2/(1+5)), bound = gain·√3/√fan_in, fan_in = in), B zero, so the
    /// adapted module starts equal to the base.
    /// </summary>
    public void InitializeAsPeft(DeterministicRandom rng)
    {
        double bound = 1.0 / Math.Sqrt(Module.InFeatures);
        var a = A.Span;
        for (int i = 0; i < a.Length; i++) a[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        B.Clear();
    }

    public override string ToString() => $"LoRA({Module.Name}.{Name}: r {Rank}, α {Alpha}{(UseRsLora ? ", rsLoRA" : "")}, dropout {Dropout})";
}
