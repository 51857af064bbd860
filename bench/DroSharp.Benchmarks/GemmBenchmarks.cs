using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Benchmarks;

/// <summary>
/// <see cref="Gemm.Compute"/> on the t5-small shapes (m×n×k) in each layout. Time per call; divide
/// 2·m·n·k by it for FLOP/s (<c>dro bench gemm</c> prints GFLOP/s and the efficiency directly).
/// </summary>
[MemoryDiagnoser]
public unsafe class GemmBenchmarks
{
    private float* _a, _b, _c;

    [Params("1024x1024x1024", "1536x512x512", "1536x1024x512", "1536x512x1024", "512x32128x512")]
    public string Shape { get; set; } = "";

    [Params(GemmLayout.NN, GemmLayout.NT, GemmLayout.TN)]
    public GemmLayout Layout { get; set; }

    private int _m, _n, _k;

    [GlobalSetup]
    public void Setup()
    {
        var p = Shape.Split('x');
        (_m, _n, _k) = (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
        _a = Random((long)_m * _k, 1);
        _b = Random((long)_k * _n, 2);
        _c = Random((long)_m * _n, 3);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }

    [Benchmark]
    public void Compute()
    {
        int lda = Layout == GemmLayout.TN ? _m : _k, ldb = Layout == GemmLayout.NT ? _k : _n;
        Gemm.Compute(Layout, _m, _n, _k, _a, lda, _b, ldb, _c, _n, accumulate: false);
    }

    internal static float* Random(long count, int seed)
    {
        var x = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        var rng = new Random(seed);
        for (long i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
