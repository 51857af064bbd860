using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Optim;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Tests.Optim;

[Collection(SimdOverrideCollection.Name)]
public unsafe class DeterministicSumTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(129)]
    [InlineData(16385)]
    [InlineData(70001)]
    public void SumsAreAccurateAndIdenticalAtEverySimdWidthAndThreadCount(int n)
    {
        using var x = TestUtil.Random(new Random(n), new Shape(n), 3f);
        double exact = 0, exactPlus = 0;
        for (int i = 0; i < n; i++)
        {
            exact += (double)x[i] * x[i];
            exactPlus += x[i] * x[i] + 1e-3f;
        }
        using var pool1 = new WorkerPool(1);
        using var pool3 = new WorkerPool(3);
        var results = new List<(double, double, double)>();
        foreach (var level in new[] { SimdLevel.Scalar, SimdLevel.Vector256, SimdLevel.Vector512 })
        {
            using var _ = KernelDispatch.Override(level);
            double a = DeterministicSum.SumOfSquares(pool1, x.Data, n);
            double b = DeterministicSum.SumOfSquares(pool3, x.Data, n);
            Assert.Equal(BitConverter.DoubleToInt64Bits(a), BitConverter.DoubleToInt64Bits(b));
            results.Add((a, DeterministicSum.SumOfFloatSquaresPlus(x.Data, n, 1e-3f), 0));
            var acc = new double[n];
            fixed (double* pa = acc) DeterministicSum.AccumulateFloatSquaresPlus(x.Data, pa, n, 1e-3f);
            for (int i = 0; i < n; i++) Assert.Equal((double)(x[i] * x[i] + 1e-3f), acc[i]);
        }
        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Equal(exact, results[0].Item1, 1e-12 * exact);
        Assert.Equal(exactPlus, results[0].Item2, 1e-12 * exactPlus);
    }
}
