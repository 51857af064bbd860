using DroSharp.Tensors;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Micro-batches of example indices, epoch after epoch. Each epoch is a fresh permutation of 0..Count−1 drawn
/// (Fisher–Yates on the identity) from a <see cref="DeterministicRandom"/> stream derived from the seed, or the
/// identity when not shuffling. An epoch's last batch is short unless <see cref="DropLast"/>, which leaves it out
/// (needed when every batch must hold at least BatchSize examples, e.g. KTO's mismatched-pair KL). The position
/// can be saved with <see cref="GetState"/> at any step and restored with <see cref="Restore"/>: the restored
/// sampler yields exactly the batches the original would have.
/// </summary>
public sealed class EpochSampler
{
    /// <summary>Added to the seed so the sampler and the eval split draw different streams from one user seed.</summary>
    private const ulong SamplerStream = 0x5A3B_1E00_0000_0001UL;

    private readonly int[] _order;
    private DeterministicRandom _rng;
    private ulong[] _epochRngState;

    public EpochSampler(int count, int batchSize, ulong seed, bool shuffle = true, bool dropLast = false)
        : this(count, batchSize, shuffle, dropLast, new DeterministicRandom(seed + SamplerStream))
    {
        BeginEpoch(0);
    }

    private EpochSampler(int count, int batchSize, bool shuffle, bool dropLast, DeterministicRandom rng)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "there are no examples to sample");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be at least 1");
        if (dropLast && count < batchSize)
            throw new ArgumentException($"only {count} examples, fewer than one full batch of {batchSize}; lower the batch size");
        Count = count;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _order = new int[count];
        _rng = rng;
        _epochRngState = rng.GetState();
    }

    public int Count { get; }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    /// <summary>The 0-based epoch of the last batch handed out (of the next one, before any).</summary>
    public int Epoch { get; private set; }

    /// <summary>Index into the current epoch's permutation of the next example to hand out.</summary>
    public int Position { get; private set; }

    /// <summary>True when the current epoch has no batch left: the next <see cref="Next"/> starts epoch <see cref="Epoch"/> + 1.</summary>
    public bool AtEpochEnd => Count - Position == 0 || (DropLast && Count - Position < BatchSize);

    public int BatchesPerEpoch => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>The current epoch's order (a copy).</summary>
    public int[] CurrentOrder() => (int[])_order.Clone();

    /// <summary>The next micro-batch, starting a new epoch when the current one is used up.</summary>
    public IndexBatch Next()
    {
        if (AtEpochEnd) BeginEpoch(Epoch + 1);
        int take = Math.Min(BatchSize, Count - Position);
        var indices = _order.AsSpan(Position, take).ToArray();
        var batch = new IndexBatch(Epoch, Position / BatchSize, indices);
        Position += take;
        return batch;
    }

    public SamplerState GetState() => new(Count, BatchSize, Shuffle, DropLast, Epoch, Position, (ulong[])_epochRngState.Clone());

    /// <summary>
    /// Continues from <paramref name="state"/>; <paramref name="count"/> and <paramref name="batchSize"/> are those of
    /// the run being resumed and must match the saved ones (otherwise the data or options changed).
    /// </summary>
    public static EpochSampler Restore(SamplerState state, int count, int batchSize)
    {
        if (state.Count != count || state.BatchSize != batchSize)
            throw new InvalidOperationException(
                $"cannot resume the data order: it was saved for {state.Count} examples in batches of {state.BatchSize}, "
                + $"but the run now has {count} examples in batches of {batchSize}; resume with the same data and batch size");
        if (state.Epoch < 0 || state.Position < 0 || state.Position > state.Count)
            throw new FormatException($"the saved data-sampler position is damaged: epoch {state.Epoch}, position {state.Position} of {state.Count}");
        var sampler = new EpochSampler(count, batchSize, state.Shuffle, state.DropLast, DeterministicRandom.FromState(state.EpochRngState));
        sampler.BeginEpoch(state.Epoch);
        sampler.Position = state.Position;
        return sampler;
    }

    private void BeginEpoch(int epoch)
    {
        Epoch = epoch;
        Position = 0;
        _epochRngState = _rng.GetState();
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle) _rng.Shuffle<int>(_order);
    }
}
