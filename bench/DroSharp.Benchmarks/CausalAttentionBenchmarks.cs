using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Benchmarks;

/// <summary>
/// <see cref="CausalAttentionKernel"/> forward and forward + backward on the attention shapes of
/// smollm2-135m (B=4, T=192, 9 query heads, 3 kv heads, D=64) and qwen2.5-0.5b (B=8, T=512, 14/2,
/// D=64). Forward FLOPs (causal): 4·B·T²·Hq·D/2; forward + backward: 3.5 times that.
/// </summary>
[MemoryDiagnoser]
public unsafe class CausalAttentionBenchmarks
{
    private float* _q, _k, _v, _o, _lse, _dO, _dq, _dk, _dv;
    private int _b, _t, _hq, _hkv;
    private const int D = 64;

    [Params("smollm2-135m", "qwen2.5-0.5b")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        (_b, _t, _hq, _hkv) = Shape == "smollm2-135m" ? (4, 192, 9, 3) : (8, 512, 14, 2);
        long qn = (long)_b * _t * _hq * D, kn = (long)_b * _t * _hkv * D;
        _q = GemmBenchmarks.Random(qn, 1); _k = GemmBenchmarks.Random(kn, 2); _v = GemmBenchmarks.Random(kn, 3);
        _dO = GemmBenchmarks.Random(qn, 4); _o = GemmBenchmarks.Random(qn, 5); _lse = GemmBenchmarks.Random((long)_b * _hq * _t, 6);
        _dq = GemmBenchmarks.Random(qn, 7); _dk = GemmBenchmarks.Random(kn, 8); _dv = GemmBenchmarks.Random(kn, 9);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in new[] { (nint)_q, (nint)_k, (nint)_v, (nint)_o, (nint)_lse, (nint)_dO, (nint)_dq, (nint)_dk, (nint)_dv })
            NativeMemory.AlignedFree((void*)p);
    }

    [Benchmark]
    public void Forward() =>
        CausalAttentionKernel.Forward(_q, _k, _v, null, _o, _lse, _b, _t, _hq, _hkv, D, 0.125f, 0f, 0);

    [Benchmark]
    public void ForwardBackward()
    {
        CausalAttentionKernel.Forward(_q, _k, _v, null, _o, _lse, _b, _t, _hq, _hkv, D, 0.125f, 0f, 0);
        CausalAttentionKernel.Backward(_q, _k, _v, null, _o, _lse, _dO, _dq, _dk, _dv, _b, _t, _hq, _hkv, D, 0.125f, 0f, 0);
    }
}
