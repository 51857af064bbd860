using System.Runtime.Intrinsics;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Chooses the SIMD width of the kernels at run time: the widest the CPU accelerates, lowered by
/// <c>DROSHARP_SIMD=256|scalar</c> or by tests through <see cref="Override"/> so that the narrower
/// paths and their tails are exercised on an AVX-512 machine too.
/// </summary>
public static class KernelDispatch
{
    public static SimdLevel Hardware { get; } =
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512 :
        Vector256.IsHardwareAccelerated ? SimdLevel.Vector256 : SimdLevel.Scalar;

    private static SimdLevel s_level = FromEnvironment();

    /// <summary>The level kernels use now.</summary>
    public static SimdLevel Level => s_level;

    private static SimdLevel FromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("DROSHARP_SIMD")?.Trim().ToLowerInvariant();
        SimdLevel wanted = env switch
        {
            "512" or "vector512" or "avx512" => SimdLevel.Vector512,
            "256" or "vector256" or "avx2" => SimdLevel.Vector256,
            "scalar" or "0" or "none" => SimdLevel.Scalar,
            _ => Hardware,
        };
        return (SimdLevel)Math.Min((int)wanted, (int)Hardware);
    }

    /// <summary>
    /// Lowers the level until the returned scope is disposed (never raises it above the hardware's).
    /// Meant for tests; not thread-safe with kernels running concurrently.
    /// </summary>
    public static IDisposable Override(SimdLevel level)
    {
        var previous = s_level;
        s_level = (SimdLevel)Math.Min((int)level, (int)Hardware);
        return new Restore(previous);
    }

    private sealed class Restore(SimdLevel previous) : IDisposable
    {
        public void Dispose() => s_level = previous;
    }
}
