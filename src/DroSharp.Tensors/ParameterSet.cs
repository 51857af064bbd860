using DroSharp.Tensors.Modules;

namespace DroSharp.Tensors;

/// <summary>
/// A model's parameters by their Hugging Face names, in creation order (the order optimisers and
/// checkpoints iterate in). Each is an owned float32 tensor with its name set; <c>RequiresGrad</c> is the
/// trainable flag (true when created; <see cref="Freeze"/> clears it). The <see cref="Linear"/> modules
/// built on these parameters are registered too, in creation order, for adapters to find. A frozen
/// Linear weight may be moved out of <see cref="All"/> into bfloat16 storage
/// (<see cref="StoreInBFloat16"/>, listed in <see cref="BFloat16Weights"/>), which this set then owns.
/// </summary>
public sealed class ParameterSet : IDisposable
{
    private readonly List<Tensor> _list = new();
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);
    private readonly List<Linear> _linears = new();
    private readonly List<BFloat16Matrix> _bfloat16 = new();

    public IReadOnlyList<Tensor> All => _list;

    /// <summary>The parameters that train (<c>RequiresGrad</c>), in creation order.</summary>
    public IReadOnlyList<Tensor> Trainable => _list.Where(p => p.RequiresGrad).ToList();

    /// <summary>Every <see cref="Linear"/> module built on this set, in creation order.</summary>
    public IReadOnlyList<Linear> Linears => _linears;

    /// <summary>Frozen Linear weights stored in bfloat16 (no longer in <see cref="All"/>), in conversion order.</summary>
    public IReadOnlyList<BFloat16Matrix> BFloat16Weights => _bfloat16;

    public int Count => _list.Count;

    public long ElementCount
    {
        get
        {
            long n = 0;
            foreach (var p in _list) n += p.Length;
            return n;
        }
    }

    /// <summary>Creates a zeroed parameter named <paramref name="name"/>.</summary>
    public Tensor Create(string name, Shape shape)
    {
        if (_byName.ContainsKey(name)) throw new ArgumentException($"duplicate parameter name {name}");
        var t = Tensor.Zeros(shape);
        t.Name = name;
        t.RequiresGrad = true;
        _list.Add(t);
        _byName.Add(name, t);
        return t;
    }

    /// <summary>
    /// Stores the frozen weight of <paramref name="linear"/> (a module of this set) in bfloat16: the
    /// float32 tensor leaves <see cref="All"/> and is freed, and the module computes with the bfloat16
    /// matrix (<see cref="Linear.FrozenWeight"/>). <paramref name="values"/> gives the matrix (e.g. read
    /// straight from a bfloat16 checkpoint); when null the float32 values are rounded to nearest-even.
    /// </summary>
    public void StoreInBFloat16(Linear linear, BFloat16Matrix? values = null)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (!_linears.Contains(linear)) throw new ArgumentException($"{linear.Name} is not a module of this parameter set", nameof(linear));
        var w = linear.Weight;
        if (w.RequiresGrad) throw new InvalidOperationException($"{w.Name} trains; only a frozen weight can be stored in bfloat16 (freeze it first)");
        var m = values ?? BFloat16Matrix.FromFloat32(w);
        if (m.Rows != w.Shape[0] || m.Cols != w.Shape[1])
            throw new ArgumentException($"bfloat16 values [{m.Rows}, {m.Cols}] for {w.Name} of shape {w.Shape}", nameof(values));
        m.Name = w.Name;
        _list.Remove(w);
        _byName.Remove(w.Name!);
        w.Grad?.Dispose();
        w.Dispose();
        _bfloat16.Add(m);
        linear.StoreWeightInBFloat16(m);
    }

    /// <summary>Called by <see cref="Linear"/>'s constructor.</summary>
    internal void Register(Linear module) => _linears.Add(module);

    /// <summary>Marks every parameter as not trainable (no gradient is computed or kept for it).</summary>
    public void Freeze()
    {
        foreach (var p in _list)
        {
            p.RequiresGrad = false;
            p.Grad?.Dispose();
            p.Grad = null;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public Tensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no parameter named {name}");

    public bool TryGet(string name, out Tensor tensor) => _byName.TryGetValue(name, out tensor!);

    /// <summary>Zeroes every gradient that exists.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _list) p.Grad?.Clear();
    }

    /// <summary>Copies every parameter's values from <paramref name="other"/> (same names and shapes).</summary>
    public void CopyFrom(ParameterSet other)
    {
        foreach (var p in _list)
        {
            var q = other[p.Name!];
            if (q.Shape != p.Shape) throw new ArgumentException($"{p.Name}: shape {q.Shape} vs {p.Shape}");
            p.CopyFrom(q);
        }
    }

    public void Dispose()
    {
        foreach (var p in _list)
        {
            p.Grad?.Dispose();
            p.Dispose();
        }
        foreach (var m in _bfloat16) m.Dispose();
        _list.Clear();
        _byName.Clear();
        _linears.Clear();
        _bfloat16.Clear();
    }
}
