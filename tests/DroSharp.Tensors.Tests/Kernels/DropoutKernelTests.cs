using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests.Kernels;

/// <summary>
/// The vectorised dropout mask is the scalar definition (<see cref="DropoutKernel.Keeps"/>) bit for
/// bit at every SIMD level, for any length and any start a thread split gives, forward and backward.
/// </summary>
public unsafe class DropoutKernelTests
{
    [Theory]
    [InlineData(1, 0.05f)]
    [InlineData(15, 0.3f)]
    [InlineData(17, 0.3f)]
    [InlineData(33, 0.5f)]
    [InlineData(70001, 0.05f)] // split over the worker pool: the second share starts mid-vector
    [InlineData(4099, 0f)]
    public void MatchesTheScalarMaskAtEveryLevel(int n, float p)
    {
        var rng = new Random(n);
        var x = new float[n];
        var before = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 4 - 2); before[i] = (float)(rng.NextDouble() * 2 - 1); }
        before[0] = -0f; // a dropped element must keep its gradient as it was, sign of zero included
        const ulong Seed = 0xDEADBEEF12345UL;
        float scale = 1f / (1f - p);
        foreach (var level in TestUtil.Levels)
        {
            if (level > KernelDispatch.Hardware) continue;
            using var _ = KernelDispatch.Override(level);
            var y = new float[n];
            var dx = (float[])before.Clone();
            fixed (float* xp = x, yp = y, dp = dx)
            {
                DropoutKernel.Forward(xp, yp, n, p, Seed);
                DropoutKernel.Backward(xp, dp, n, p, Seed);
            }
            for (int i = 0; i < n; i++)
            {
                bool keep = DropoutKernel.Keeps(Seed, i, p);
                float wantY = keep ? x[i] * scale : 0f;
                float wantDx = keep ? before[i] + x[i] * scale : before[i];
                Assert.True(BitConverter.SingleToInt32Bits(wantY) == BitConverter.SingleToInt32Bits(y[i]), $"{level} forward [{i}]: {wantY} vs {y[i]}");
                Assert.True(BitConverter.SingleToInt32Bits(wantDx) == BitConverter.SingleToInt32Bits(dx[i]), $"{level} backward [{i}]: {wantDx} vs {dx[i]}");
            }
        }
    }
}
