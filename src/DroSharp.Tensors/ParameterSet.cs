using DroSharp.Tensors.Modules;

namespace DroSharp.Tensors;

/// <summary>
/// A model's parameters by their Hugging Face names, in creation order (the order optimisers and
/// checkpoints iterate in). Each is an owned float32 tensor with its name set; <c>RequiresGrad</c> is the
/// trainable flag (true when created; <see cref="Freeze"/> clears it). The <see cref="Linear"/> modules
/// built on these parameters are registered too, in creation order, for adapters to find.
/// </summary>
public sealed class ParameterSet : IDisposable
{
    private readonly List<Tensor> _list = new();
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);
    private readonly List<Linear> _linears = new();

    public IReadOnlyList<Tensor> All => _list;

    /// <summary>The parameters that train (<c>RequiresGrad</c>), in creation order.</summary>
    public IReadOnlyList<Tensor> Trainable => _list.Where(p => p.RequiresGrad).ToList();

    /// <summary>Every <see cref="Linear"/> module built on this set, in creation order.</summary>
    public IReadOnlyList<Linear> Linears => _linears;

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
        _list.Clear();
        _byName.Clear();
        _linears.Clear();
    }
}
