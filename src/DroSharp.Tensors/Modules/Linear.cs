using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Modules;

/// <summary>
/// PyTorch's <c>nn.Linear</c>: y = x·Wᵀ (+ b). x: [..., in] → y: [..., out]; <see cref="Weight"/> is
/// [out, in] named <c>{Name}.weight</c>, <see cref="Bias"/> [out] named <c>{Name}.bias</c>. Every
/// projection of every model family is one of these, so that adapters (LoRA) and frozen
/// low-precision weights attach in one place. <see cref="Name"/> is the module path
/// (e.g. <c>model.layers.0.self_attn.q_proj</c>), the name PEFT's <c>target_modules</c> match.
/// <para>
/// A module may carry several named <see cref="LoraAdapter"/>s; the one named by the thread's
/// <see cref="AdapterSelection"/> is added: y = W·x (+ b) + scale·B·A·dropout(x). A frozen weight may
/// be stored in bfloat16 (<see cref="FrozenWeight"/>, <see cref="ParameterSet.StoreInBFloat16"/>).
/// </para>
/// </summary>
public sealed class Linear
{
    private Tensor? _weight;
    private Dictionary<string, LoraAdapter>? _adapters;

    /// <summary>Creates the parameters in <paramref name="parameters"/> (zeroed) and registers the module there.</summary>
    public Linear(ParameterSet parameters, string name, int inFeatures, int outFeatures, bool bias = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear {name}: {inFeatures} → {outFeatures} features");
        Name = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = parameters.Create(name + ".weight", new Shape(outFeatures, inFeatures));
        if (bias) Bias = parameters.Create(name + ".bias", new Shape(outFeatures));
        NameHash = Fnv1a(name);
        parameters.Register(this);
    }

    /// <summary>The module path, without <c>.weight</c>.</summary>
    public string Name { get; }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>W [out, in] in float32. Throws once the frozen weight is stored in bfloat16 (<see cref="FrozenWeight"/>).</summary>
    public Tensor Weight => _weight ?? throw new InvalidOperationException($"{Name}.weight is stored in bfloat16 (a frozen base); read {nameof(FrozenWeight)}");

    /// <summary>True while <see cref="Weight"/> is a float32 tensor (not converted to <see cref="FrozenWeight"/>).</summary>
    public bool HasFloat32Weight => _weight is not null;

    /// <summary>The frozen weight in bfloat16, or null while it is float32.</summary>
    public BFloat16Matrix? FrozenWeight { get; private set; }

    /// <summary>b [out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>The adapters by name (empty when there is none).</summary>
    public IReadOnlyDictionary<string, LoraAdapter> Adapters =>
        (IReadOnlyDictionary<string, LoraAdapter>?)_adapters ?? new Dictionary<string, LoraAdapter>();

    internal ulong NameHash { get; }

    /// <summary>
    /// Adds a LoRA adapter named <paramref name="adapterName"/> whose A [r, in] and B [out, r] are created
    /// (zeroed; see <see cref="LoraAdapter.InitializeAsPeft"/>) in <paramref name="owner"/>, the parameter
    /// set that trains and saves them, as <c>{Name}.lora_A.{adapterName}.weight</c> and <c>…lora_B…</c>.
    /// </summary>
    public LoraAdapter AddAdapter(ParameterSet owner, string adapterName, int rank, double alpha, float dropout = 0f, bool useRsLora = false)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        if (adapterName.Contains('.')) throw new ArgumentException($"adapter name \"{adapterName}\" must not contain '.'", nameof(adapterName));
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"LoRA rank {rank} of {Name} must be at least 1");
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), $"LoRA alpha {alpha} of {Name} must be a positive number");
        if (!(dropout >= 0f && dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(dropout), $"LoRA dropout {dropout} of {Name} is not in [0, 1)");
        _adapters ??= new Dictionary<string, LoraAdapter>(StringComparer.Ordinal);
        if (_adapters.ContainsKey(adapterName)) throw new ArgumentException($"{Name} already has an adapter named \"{adapterName}\"", nameof(adapterName));
        var a = owner.Create($"{Name}.lora_A.{adapterName}.weight", new Shape(rank, InFeatures));
        var b = owner.Create($"{Name}.lora_B.{adapterName}.weight", new Shape(OutFeatures, rank));
        var adapter = new LoraAdapter(this, adapterName, a, b, rank, alpha, dropout, useRsLora);
        _adapters.Add(adapterName, adapter);
        return adapter;
    }

    /// <summary>Detaches the adapter (its tensors stay in their parameter set); false when there is none of that name.</summary>
    public bool RemoveAdapter(string adapterName) => _adapters?.Remove(adapterName) ?? false;

    /// <summary>
    /// Folds the adapter into the float32 weight, W ← W + scale·(B·A) (PEFT's <c>merge</c>), and detaches it.
    /// </summary>
    public unsafe void MergeAdapter(string adapterName)
    {
        if (_adapters is null || !_adapters.TryGetValue(adapterName, out var adapter))
            throw new ArgumentException($"{Name} has no adapter named \"{adapterName}\"", nameof(adapterName));
        var w = Weight;
        using var delta = Tensor.Uninitialized(w.Shape);
        Gemm.Compute(GemmLayout.NN, OutFeatures, InFeatures, adapter.Rank, adapter.B.Data, adapter.Rank, adapter.A.Data, InFeatures,
            delta.Data, InFeatures, accumulate: false);
        ElementwiseKernels.AccumulateScaled(delta.Data, adapter.Scale, w.Data, w.Length);
        _adapters.Remove(adapterName);
    }

    /// <summary>
    /// x: [..., in] → x·Wᵀ + b: [..., out], plus scale·B·A·dropout(x) of the selected adapter
    /// (<see cref="AdapterSelection.Current"/>) when this module has it; recorded on the current tape.
    /// Dropout applies while the adapter trains (a recording tape, A requiring a gradient).
    /// </summary>
    public Tensor Forward(Tensor x)
    {
        LoraAdapter? adapter = null;
        var selection = AdapterSelection.Current;
        if (_adapters is not null && selection.Name is { } active) _adapters.TryGetValue(active, out adapter);
        Tensor y;
        if (adapter is null) y = FrozenWeight is { } frozen ? Ops.Linear(x, frozen) : Ops.Linear(x, Weight);
        else
        {
            bool training = adapter.Dropout > 0f && adapter.A.RequiresGrad && Tape.Current is { Recording: true };
            float p = training ? adapter.Dropout : 0f;
            ulong state = selection.DropoutSeed ^ NameHash ^ (adapter.NameHash * 0x9E3779B97F4A7C15UL);
            ulong seed = DeterministicRandom.SplitMix64(ref state);
            y = FrozenWeight is { } frozen
                ? Ops.LoraLinear(x, frozen, adapter.A, adapter.B, adapter.Scale, p, seed)
                : Ops.LoraLinear(x, Weight, adapter.A, adapter.B, adapter.Scale, p, seed);
        }
        return Bias is null ? y : Ops.AddBias(y, Bias);
    }

    /// <summary>Called by <see cref="ParameterSet.StoreInBFloat16"/>.</summary>
    internal void StoreWeightInBFloat16(BFloat16Matrix weight)
    {
        FrozenWeight = weight;
        _weight = null;
    }

    /// <summary>FNV-1a over the UTF-16 code units: a hash that is the same in every process (string.GetHashCode is not).</summary>
    internal static ulong Fnv1a(string s)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in s)
        {
            h ^= c;
            h *= 0x100000001B3UL;
        }
        return h;
    }

    public override string ToString() =>
        $"Linear({Name}: {InFeatures} → {OutFeatures}{(Bias is null ? "" : ", bias")}{(FrozenWeight is null ? "" : ", bfloat16")}" +
        $"{(_adapters is { Count: > 0 } ? ", adapters " + string.Join(", ", _adapters.Keys) : "")})";
}
