using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Packs blocks of op(A) and op(B) into the contiguous micro-panels the micro-kernels stream:
/// an A micro-panel is [kc, MR] (MR rows of op(A) interleaved per k step), a B micro-panel is
/// [kc, NR]. Rows or columns past the edge of the matrix are packed as zeros, so the kernels
/// always compute full tiles. Transposed operands are transposed here, 8×8 at a time with AVX,
/// so no transposed copy of a whole matrix is ever made. A B stored as bfloat16 is widened to
/// float32 while it is packed (<see cref="CopyPanelsWidening"/>, <see cref="TransposeWidening"/>), so
/// the micro-kernels see the same float32 panels as for the widened matrix.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Rows of a stored matrix cut into column panels: panel q of dst ([kc, stride] at q·kc·stride)
    /// gets columns [q·stride, q·stride + stride) of src rows 0..kc, zero past <paramref name="width"/>.
    /// Used where op(·) rows run along the panel: B in NN and TN, A in TN. Eight rows at a time, panel
    /// by panel: the reads are eight forward streams and each panel receives 8·stride contiguous floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyPanels(float* src, nint lds, int kc, int width, float* dst, int stride, bool simd)
    {
        const int RowsAtOnce = 8;
        int panels = (width + stride - 1) / stride;
        nint panelSize = (nint)kc * stride;
        bool vec = simd && Vector256.IsHardwareAccelerated;
        bool prefetch = Sse.IsSupported;
        nint ahead = PrefetchRows * lds;
        for (int p0 = 0; p0 < kc; p0 += RowsAtOnce)
        {
            int rows = Math.Min(RowsAtOnce, kc - p0);
            // Rows p0 + PrefetchRows … are fetched while these are copied: the source is usually cold
            // (an activation or gradient written long before) and its short row segments are too
            // short for the hardware prefetchers to follow.
            int aheadRows = prefetch ? Math.Clamp(kc - p0 - PrefetchRows, 0, rows) : 0;
            for (int q = 0; q < panels; q++)
            {
                int x0 = q * stride, w = Math.Min(stride, width - x0);
                float* s = src + p0 * lds + x0;
                float* d = dst + q * panelSize + (nint)p0 * stride;
                for (int p = 0; p < rows; p++, s += lds, d += stride)
                {
                    if (p < aheadRows) { Sse.Prefetch0(s + ahead); Sse.Prefetch0(s + ahead + w - 1); }
                    CopyRow(s, d, w, vec);
                    if (w < stride) new Span<float>(d + w, stride - w).Clear();
                }
            }
        }
    }

    /// <summary>
    /// How many source rows ahead the packing prefetches (into L1): one group of eight. Measured on
    /// the smollm2/qwen2.5 shapes with cold operands (a 2-core Zen 5 EPYC), packing from memory went
    /// from 0.3–0.8 to 0.2–0.3 ns per element and the whole GEMMs gained 3–20 % (TN most).
    /// </summary>
    private const int PrefetchRows = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* s, float* d, int count, bool vec)
    {
        int x = 0;
        if (vec)
        {
            for (; x + 8 <= count; x += 8) Vector256.Store(Vector256.Load(s + x), d + x);
            if (x + 4 <= count) { Vector128.Store(Vector128.Load(s + x), d + x); x += 4; }
        }
        for (; x < count; x++) d[x] = s[x];
    }

    /// <summary>
    /// dst[p, x] = src[x·lds + p] for p &lt; kc, x &lt; width; zero for width ≤ x &lt; stride.
    /// Used where op(·) is stored transposed relative to the panel: A in NN and NT, B in NT.
    /// Each block of 8 (4) rows is transposed while the next 8 rows' lines are prefetched, up to
    /// <paramref name="rowsAfter"/> rows past <paramref name="width"/> (the caller's next panel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, nint lds, int width, int kc, float* dst, int stride, bool simd, int rowsAfter = 0)
    {
        int x = 0;
        if (simd && Avx.IsSupported)
        {
            int limit = width + rowsAfter;
            for (; x + 8 <= width; x += 8)
            {
                float* s = src + x * lds;
                int ahead = Math.Min(PrefetchRows, limit - x - 8);
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    if ((p & 15) == 0) PrefetchColumn(s + 8 * lds + p, lds, ahead);
                    Transpose8x8(s + p, lds, dst + (nint)p * stride + x, stride);
                }
                for (; p < kc; p++) Column(s + p, lds, 8, dst + (nint)p * stride + x);
            }
            if (x + 4 <= width)
            {
                float* s = src + x * lds;
                int ahead = Math.Min(PrefetchRows, limit - x - 4);
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    if ((p & 15) == 0) PrefetchColumn(s + 4 * lds + p, lds, ahead);
                    Transpose4x8(s + p, lds, dst + (nint)p * stride + x, stride);
                }
                for (; p < kc; p++) Column(s + p, lds, 4, dst + (nint)p * stride + x);
                x += 4;
            }
        }
        if (x < width)
        {
            float* s = src + x * lds;
            for (int p = 0; p < kc; p++) Column(s + p, lds, width - x, dst + (nint)p * stride + x);
        }
        if (width < stride)
        {
            for (int p = 0; p < kc; p++) new Span<float>(dst + (nint)p * stride + width, stride - width).Clear();
        }
    }

    /// <summary>
    /// <see cref="CopyPanels"/> from bfloat16 bits: dst gets src widened to float32 (exactly; a shift
    /// left by 16), with vectors up to <paramref name="level"/>'s width (one 512-bit load widens a
    /// whole 32-column panel row). Used for a bfloat16 B in NN and TN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyPanelsWidening(ushort* src, nint lds, int kc, int width, float* dst, int stride, SimdLevel level)
    {
        const int RowsAtOnce = 8;
        int panels = (width + stride - 1) / stride;
        nint panelSize = (nint)kc * stride;
        bool prefetch = Sse.IsSupported;
        nint ahead = PrefetchRows * lds;
        for (int p0 = 0; p0 < kc; p0 += RowsAtOnce)
        {
            int rows = Math.Min(RowsAtOnce, kc - p0);
            int aheadRows = prefetch ? Math.Clamp(kc - p0 - PrefetchRows, 0, rows) : 0; // as in CopyPanels
            for (int q = 0; q < panels; q++)
            {
                int x0 = q * stride, w = Math.Min(stride, width - x0);
                ushort* s = src + p0 * lds + x0;
                float* d = dst + q * panelSize + (nint)p0 * stride;
                for (int p = 0; p < rows; p++, s += lds, d += stride)
                {
                    if (p < aheadRows) { Sse.Prefetch0(s + ahead); Sse.Prefetch0(s + ahead + w - 1); }
                    BFloat16Conversion.WidenRow(s, d, w, level);
                    if (w < stride) new Span<float>(d + w, stride - w).Clear();
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Transpose"/> from bfloat16 bits: dst[p, x] = widen(src[x·lds + p]) for p &lt; kc,
    /// x &lt; width; zero for width ≤ x &lt; stride. Blocks of 8 k steps of 8 (or 4) rows are loaded
    /// zero-extended to 32 bits (vpmovzxwd), shifted left by 16 and transposed in AVX registers as in
    /// the float32 path, at both vector levels. Used for a bfloat16 B in NT. Prefetches as
    /// <see cref="Transpose"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposeWidening(ushort* src, nint lds, int width, int kc, float* dst, int stride, SimdLevel level, int rowsAfter = 0)
    {
        int x = 0;
        if (level != SimdLevel.Scalar && Avx2.IsSupported)
        {
            int limit = width + rowsAfter;
            for (; x + 8 <= width; x += 8)
            {
                ushort* s = src + x * lds;
                int ahead = Math.Min(PrefetchRows, limit - x - 8);
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    if ((p & 31) == 0) PrefetchColumn(s + 8 * lds + p, lds, ahead);
                    ushort* b = s + p;
                    StoreTransposed8x8(
                        Widen8(b), Widen8(b + lds), Widen8(b + 2 * lds), Widen8(b + 3 * lds),
                        Widen8(b + 4 * lds), Widen8(b + 5 * lds), Widen8(b + 6 * lds), Widen8(b + 7 * lds),
                        dst + (nint)p * stride + x, stride);
                }
                for (; p < kc; p++) ColumnWidening(s + p, lds, 8, dst + (nint)p * stride + x);
            }
            if (x + 4 <= width)
            {
                ushort* s = src + x * lds;
                int ahead = Math.Min(PrefetchRows, limit - x - 4);
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    if ((p & 31) == 0) PrefetchColumn(s + 4 * lds + p, lds, ahead);
                    ushort* b = s + p;
                    StoreTransposed4x8(Widen8(b), Widen8(b + lds), Widen8(b + 2 * lds), Widen8(b + 3 * lds), dst + (nint)p * stride + x, stride);
                }
                for (; p < kc; p++) ColumnWidening(s + p, lds, 4, dst + (nint)p * stride + x);
                x += 4;
            }
        }
        if (x < width)
        {
            ushort* s = src + x * lds;
            for (int p = 0; p < kc; p++) ColumnWidening(s + p, lds, width - x, dst + (nint)p * stride + x);
        }
        if (width < stride)
        {
            for (int p = 0; p < kc; p++) new Span<float>(dst + (nint)p * stride + width, stride - width).Clear();
        }
    }

    // 8 bfloat16 at s → 8 floats: zero-extend to 32 bits, shift left by 16.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ushort* s) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(s), 16).AsSingle();

    // dst[x] = widen(s[x·lds]) for x < count.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnWidening(ushort* s, nint lds, int count, float* dst)
    {
        for (int x = 0; x < count; x++) ((uint*)dst)[x] = (uint)s[x * lds] << 16;
    }

    // The cache line at s in each of the next `rows` rows (row stride lds): the source rows a transpose reads next.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchColumn(float* s, nint lds, int rows)
    {
        for (int r = 0; r < rows; r++) Sse.Prefetch0(s + r * lds);
    }

    // The same for bfloat16 rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchColumn(ushort* s, nint lds, int rows)
    {
        for (int r = 0; r < rows; r++) Sse.Prefetch0(s + r * lds);
    }

    // dst[x] = s[x·lds] for x < count.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* s, nint lds, int count, float* dst)
    {
        for (int x = 0; x < count; x++) dst[x] = s[x * lds];
    }

    // 8 rows of 8 from s (row stride lds) → 8 rows of 8 at d (row stride ds), transposed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, nint lds, float* d, nint ds)
    {
        StoreTransposed8x8(
            Avx.LoadVector256(s), Avx.LoadVector256(s + lds), Avx.LoadVector256(s + 2 * lds), Avx.LoadVector256(s + 3 * lds),
            Avx.LoadVector256(s + 4 * lds), Avx.LoadVector256(s + 5 * lds), Avx.LoadVector256(s + 6 * lds), Avx.LoadVector256(s + 7 * lds),
            d, ds);
    }

    // Rows r0..r7 (8 floats each) → 8 rows of 8 at d (row stride ds), transposed: d[p·ds + x] = r_x[p].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* d, nint ds)
    {
        // t0 = a0 b0 a1 b1 | a4 b4 a5 b5, t1 = a2 b2 a3 b3 | a6 b6 a7 b7, … (a..h are the rows)
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        // u0 = a0 b0 c0 d0 | a4 b4 c4 d4, u1 = …1 | …5, u2 = …2 | …6, u3 = …3 | …7 (rows a–d; v* for e–h)
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var v0 = Avx.Shuffle(t4, t6, 0x44);
        var v1 = Avx.Shuffle(t4, t6, 0xEE);
        var v2 = Avx.Shuffle(t5, t7, 0x44);
        var v3 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, v0, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(u1, v1, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(u2, v2, 0x20));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(u3, v3, 0x20));
        Avx.Store(d + 4 * ds, Avx.Permute2x128(u0, v0, 0x31));
        Avx.Store(d + 5 * ds, Avx.Permute2x128(u1, v1, 0x31));
        Avx.Store(d + 6 * ds, Avx.Permute2x128(u2, v2, 0x31));
        Avx.Store(d + 7 * ds, Avx.Permute2x128(u3, v3, 0x31));
    }

    // 4 rows of 8 from s → 8 rows of 4 at d, transposed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x8(float* s, nint lds, float* d, nint ds)
    {
        StoreTransposed4x8(Avx.LoadVector256(s), Avx.LoadVector256(s + lds), Avx.LoadVector256(s + 2 * lds), Avx.LoadVector256(s + 3 * lds), d, ds);
    }

    // Rows r0..r3 (8 floats each) → 8 rows of 4 at d (row stride ds), transposed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed4x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, float* d, nint ds)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        Sse.Store(d, u0.GetLower());
        Sse.Store(d + ds, u1.GetLower());
        Sse.Store(d + 2 * ds, u2.GetLower());
        Sse.Store(d + 3 * ds, u3.GetLower());
        Sse.Store(d + 4 * ds, u0.GetUpper());
        Sse.Store(d + 5 * ds, u1.GetUpper());
        Sse.Store(d + 6 * ds, u2.GetUpper());
        Sse.Store(d + 7 * ds, u3.GetUpper());
    }
}
