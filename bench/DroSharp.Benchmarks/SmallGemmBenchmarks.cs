using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Benchmarks;

/// <summary>
/// The small products attention makes, one per (batch, head): scores Q·Kᵀ (NT, s×s×64) and the
/// weighted sum P·V (NN, s×64×s), alone and batched over 8 heads × 4 sequences.
/// </summary>
[MemoryDiagnoser]
public unsafe class SmallGemmBenchmarks
{
    private const int Batch = 32, D = 64;
    private float* _q, _k, _s;

    [Params(64, 128)]
    public int Seq { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _q = GemmBenchmarks.Random((long)Batch * Seq * D, 1);
        _k = GemmBenchmarks.Random((long)Batch * Seq * D, 2);
        _s = GemmBenchmarks.Random((long)Batch * Seq * Seq, 3);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_q);
        NativeMemory.AlignedFree(_k);
        NativeMemory.AlignedFree(_s);
    }

    [Benchmark]
    public void ScoresSingle() => Gemm.Compute(GemmLayout.NT, Seq, Seq, D, _q, D, _k, D, _s, Seq, accumulate: false);

    [Benchmark]
    public void ScoresBatched() =>
        Gemm.ComputeBatched(GemmLayout.NT, Batch, Seq, Seq, D, _q, D, (long)Seq * D, _k, D, (long)Seq * D, _s, Seq, (long)Seq * Seq, accumulate: false);

    [Benchmark]
    public void WeightedSumBatched() =>
        Gemm.ComputeBatched(GemmLayout.NN, Batch, Seq, D, Seq, _s, Seq, (long)Seq * Seq, _k, D, (long)Seq * D, _q, D, (long)Seq * D, accumulate: false);
}
