namespace DroSharp.Alignment.Objectives;

/// <summary>
/// Named metrics kept as (sum, weight) so that micro-batches and logging steps merge exactly:
/// the logged value of a name is Σ sums / Σ weights. Per-example quantities (<c>rewards/chosen</c>,
/// <c>logps/rejected</c>, <c>value/mean</c>…) carry one unit of weight per example, as TRL averages
/// them over the examples of that label; per-micro-batch quantities (<c>loss</c>, <c>kl</c>) carry one
/// unit per micro-batch, as TRL averages the values it stored per step.
/// <c>rewards/margins</c> is derived at read time as rewards/chosen − rewards/rejected (TRL's KTO
/// definition; for DPO it equals the mean per-pair margin because every pair has both).
/// </summary>
public sealed class ObjectiveMetrics
{
    public const string Margins = "rewards/margins";

    private readonly Dictionary<string, (double Sum, double Weight)> _entries = new(StringComparer.Ordinal);

    /// <summary>Adds one observation of weight 1.</summary>
    public void Add(string name, double value) => Add(name, value, 1.0);

    /// <summary>Adds a sum over <paramref name="weight"/> units (examples or micro-batches).</summary>
    public void Add(string name, double sum, double weight)
    {
        if (name == Margins) throw new ArgumentException($"{Margins} is derived from rewards/chosen and rewards/rejected; do not add it");
        if (!(weight >= 0) || !double.IsFinite(weight)) throw new ArgumentException($"metric {name}: weight {weight} must be finite and ≥ 0");
        if (weight == 0) return;
        _entries.TryGetValue(name, out var e);
        _entries[name] = (e.Sum + sum, e.Weight + weight);
    }

    /// <summary>Adds Σᵢ wᵢ·valuesᵢ with weight Σᵢ wᵢ (wᵢ = 1 when <paramref name="weights"/> is null).</summary>
    internal void AddPerExample(string name, ReadOnlySpan<double> values, double[]? weights)
    {
        double sum = 0, total = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double w = weights?[i] ?? 1.0;
            sum += w * values[i];
            total += w;
        }
        Add(name, sum, total);
    }

    /// <summary>Adds every entry of <paramref name="other"/> (accumulation across micro-batches or steps).</summary>
    public void Merge(ObjectiveMetrics other)
    {
        foreach (var (name, e) in other._entries) Add(name, e.Sum, e.Weight);
    }

    public bool Contains(string name) =>
        name == Margins ? _entries.ContainsKey("rewards/chosen") && _entries.ContainsKey("rewards/rejected") : _entries.ContainsKey(name);

    /// <summary>The averaged value of <paramref name="name"/>.</summary>
    public double this[string name]
    {
        get
        {
            if (name == Margins) return this["rewards/chosen"] - this["rewards/rejected"];
            if (!_entries.TryGetValue(name, out var e)) throw new KeyNotFoundException($"no metric named '{name}' was recorded");
            return e.Sum / e.Weight;
        }
    }

    /// <summary>All averaged values, names sorted, with <c>rewards/margins</c> when both sides are present.</summary>
    public SortedDictionary<string, double> ToDictionary()
    {
        var d = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, e) in _entries) d[name] = e.Sum / e.Weight;
        if (Contains(Margins)) d[Margins] = this[Margins];
        return d;
    }

    /// <summary>The raw (sum, weight) entries, for saving a partly filled logging window in a checkpoint.</summary>
    public SortedDictionary<string, double[]> ExportEntries()
    {
        var d = new SortedDictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, e) in _entries) d[name] = [e.Sum, e.Weight];
        return d;
    }

    /// <summary>Rebuilds metrics from <see cref="ExportEntries"/>.</summary>
    public static ObjectiveMetrics ImportEntries(IReadOnlyDictionary<string, double[]> entries)
    {
        var m = new ObjectiveMetrics();
        foreach (var (name, e) in entries)
        {
            if (e.Length != 2) throw new ArgumentException($"metric {name}: expected [sum, weight], got {e.Length} numbers");
            m.Add(name, e[0], e[1]);
        }
        return m;
    }
}
