using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// One attention layer's cached keys and values for decoding: <see cref="Keys"/> and
/// <see cref="Values"/> [B, capacity, width] (width = key/value heads × head size), of which the
/// first <see cref="Lengths"/>[b] positions of row b are filled. Owned by the decoding session,
/// read and extended by the model's attention module, so decoding runs the training block code.
/// A cache made with <c>fillOnce</c> holds keys computed once from a fixed input (T5's
/// cross-attention over the encoder output).
/// </summary>
public sealed unsafe class KeyValueCache : IDisposable
{
    public KeyValueCache(int batch, int capacity, int width, bool fillOnce = false)
    {
        if (batch < 1 || capacity < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(capacity), $"cache [{batch}, {capacity}, {width}]");
        Batch = batch;
        Capacity = capacity;
        Width = width;
        FillOnce = fillOnce;
        Keys = Tensor.Zeros(new Shape(batch, capacity, width));
        Values = Tensor.Zeros(new Shape(batch, capacity, width));
        Lengths = new int[batch];
    }

    public int Batch { get; }
    public int Capacity { get; }
    public int Width { get; }

    /// <summary>True for a cache filled once from a fixed input and then only read.</summary>
    public bool FillOnce { get; }

    /// <summary>[B, capacity, width].</summary>
    public Tensor Keys { get; }

    /// <summary>[B, capacity, width].</summary>
    public Tensor Values { get; }

    /// <summary>Filled positions per row.</summary>
    public int[] Lengths { get; }

    /// <summary>True once anything was written.</summary>
    public bool IsFilled => Lengths.Any(l => l > 0);

    /// <summary>The longest row's length (every row's, when rows advance together).</summary>
    public int MaxLength => Lengths.Max();

    /// <summary>
    /// Writes <paramref name="keys"/> and <paramref name="values"/> [B, T, width] at each row's end:
    /// row b's first <paramref name="count"/>[b] new positions (all T when null), then advances it.
    /// </summary>
    public void Append(Tensor keys, Tensor values, int[]? count = null)
    {
        if (keys.Shape.Rank != 3 || keys.Shape[0] != Batch || keys.Shape[2] != Width || values.Shape != keys.Shape)
            throw new ArgumentException($"KeyValueCache.Append: keys {keys.Shape}, values {values.Shape} for a cache [{Batch}, {Capacity}, {Width}]");
        int t = keys.Shape[1];
        for (int b = 0; b < Batch; b++)
        {
            int n = count?[b] ?? t;
            if (n < 0 || n > t) throw new ArgumentOutOfRangeException(nameof(count), $"row {b}: {n} of {t} positions");
            if (Lengths[b] + n > Capacity)
                throw new InvalidOperationException($"KeyValueCache: row {b} would hold {Lengths[b] + n} positions, more than its capacity {Capacity}");
            long src = (long)b * t * Width, dst = ((long)b * Capacity + Lengths[b]) * Width;
            long bytes = (long)n * Width * sizeof(float);
            Buffer.MemoryCopy(keys.Data + src, Keys.Data + dst, bytes, bytes);
            Buffer.MemoryCopy(values.Data + src, Values.Data + dst, bytes, bytes);
            Lengths[b] += n;
        }
    }

    public void Dispose()
    {
        Keys.Dispose();
        Values.Dispose();
    }
}
