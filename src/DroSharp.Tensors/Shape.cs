using System.Runtime.CompilerServices;

namespace DroSharp.Tensors;

/// <summary>
/// The extents of a row-major tensor, rank 0 to 4, stored inline so that creating a shape never
/// touches the managed heap (a training step builds thousands of them).
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    public const int MaxRank = 4;

    private readonly int _d0, _d1, _d2, _d3;

    public int Rank { get; }

    public Shape(int d0) : this(1, d0, 0, 0, 0) { }
    public Shape(int d0, int d1) : this(2, d0, d1, 0, 0) { }
    public Shape(int d0, int d1, int d2) : this(3, d0, d1, d2, 0) { }
    public Shape(int d0, int d1, int d2, int d3) : this(4, d0, d1, d2, d3) { }

    private Shape(int rank, int d0, int d1, int d2, int d3)
    {
        if (d0 < 0 || d1 < 0 || d2 < 0 || d3 < 0)
            throw new ArgumentOutOfRangeException(nameof(d0), $"negative extent in shape ({d0}, {d1}, {d2}, {d3})");
        Rank = rank;
        _d0 = d0; _d1 = d1; _d2 = d2; _d3 = d3;
        long count = 1;
        for (int i = 0; i < rank; i++) count *= this[i];
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(d0), $"shape {this} has more than 2^31 elements");
    }

    public static Shape Scalar => new(0, 0, 0, 0, 0);

    public static Shape FromSpan(ReadOnlySpan<int> dims) => dims.Length switch
    {
        0 => Scalar,
        1 => new Shape(dims[0]),
        2 => new Shape(dims[0], dims[1]),
        3 => new Shape(dims[0], dims[1], dims[2]),
        4 => new Shape(dims[0], dims[1], dims[2], dims[3]),
        _ => throw new ArgumentException($"rank {dims.Length} is more than {MaxRank}", nameof(dims)),
    };

    public int this[int axis]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (axis < 0) axis += Rank;
            if ((uint)axis >= (uint)Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} of a rank-{Rank} shape");
            return axis switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };
        }
    }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public int Count
    {
        get
        {
            int n = 1;
            for (int i = 0; i < Rank; i++) n *= this[i];
            return n;
        }
    }

    /// <summary>The last extent (the contiguous one).</summary>
    public int Last => Rank == 0 ? 1 : this[Rank - 1];

    /// <summary>Product of all extents but the last: the number of rows of the 2-D view.</summary>
    public int Rows => Rank == 0 ? 1 : Count / Math.Max(1, Last);

    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = this[i];
        return a;
    }

    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (this[i] != other[i]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public override string ToString()
    {
        var parts = new string[Rank];
        for (int i = 0; i < Rank; i++) parts[i] = this[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }
}
