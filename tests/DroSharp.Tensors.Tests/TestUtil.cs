using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

/// <summary>Random inputs (never zeros) and central finite differences for backward tests.</summary>
internal static class TestUtil
{
    /// <summary>The SIMD levels every kernel test runs at (clamped to the hardware's by the override).</summary>
    public static readonly SimdLevel[] Levels = [SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Scalar];

    public static Tensor Random(Random rng, Shape shape, float scale = 1f)
    {
        var t = Tensor.Uninitialized(shape);
        for (int i = 0; i < t.Length; i++) t[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return t;
    }

    /// <summary>Uniform in ±[gap, 1]: away from kinks (ReLU at 0) so finite differences are valid.</summary>
    public static Tensor RandomAwayFromZero(Random rng, Shape shape, float gap = 0.1f)
    {
        var t = Tensor.Uninitialized(shape);
        for (int i = 0; i < t.Length; i++)
        {
            float m = gap + (float)rng.NextDouble() * (1 - gap);
            t[i] = rng.Next(2) == 0 ? -m : m;
        }
        return t;
    }

    public static double[] ToDouble(Tensor t)
    {
        var a = new double[t.Length];
        for (int i = 0; i < a.Length; i++) a[i] = t[i];
        return a;
    }

    public static void AssertBitIdentical(Tensor a, Tensor b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                Assert.Fail($"element {i}: {a[i]:G9} vs {b[i]:G9}");
    }

    /// <summary>
    /// Runs <paramref name="forward"/> on a recording tape, backpropagates a random probe p, then
    /// checks every input's gradient against central differences of L = Σ p ⊙ forward() (summed in double).
    /// </summary>
    public static void CheckGradients(Random rng, Func<Tensor> forward, params Tensor[] inputs) =>
        CheckGradients(rng, forward, inputs, h: 1e-2f);

    public static void CheckGradients(Random rng, Func<Tensor> forward, Tensor[] inputs, float h, double relTol = 2e-2, double absTol = 2e-3, int maxChecks = 64)
    {
        foreach (var t in inputs)
        {
            t.RequiresGrad = true;
            t.Grad?.Clear();
        }
        Tensor probe;
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = forward();
            probe = Random(rng, y.Shape);
            tape.Backward(y, probe);
        }
        using (probe)
        {
            double Loss()
            {
                using var t = new Tape(recording: false);
                using var _ = t.Activate();
                var y = forward();
                double s = 0;
                for (int i = 0; i < y.Length; i++) s += (double)y[i] * probe[i];
                return s;
            }
            foreach (var t in inputs) AssertGradMatchesFiniteDifference(t, Loss, h, relTol, absTol, maxChecks);
        }
    }

    /// <summary>
    /// Compares t.Grad with (L(t+h) − L(t−h)) / 2h for every element (or a random subset of
    /// <paramref name="maxChecks"/>), in double where the loss allows.
    /// </summary>
    public static void AssertGradMatchesFiniteDifference(Tensor t, Func<float> loss, float h = 1e-2f,
        double relTol = 2e-2, double absTol = 2e-3, int maxChecks = 64, int seed = 7) =>
        AssertGradMatchesFiniteDifference(t, () => (double)loss(), h, relTol, absTol, maxChecks, seed);

    public static void AssertGradMatchesFiniteDifference(Tensor t, Func<double> loss, float h = 1e-2f,
        double relTol = 2e-2, double absTol = 2e-3, int maxChecks = 64, int seed = 7)
    {
        Assert.NotNull(t.Grad);
        var rng = new Random(seed);
        int checks = Math.Min(maxChecks, t.Length);
        for (int c = 0; c < checks; c++)
        {
            int i = t.Length <= maxChecks ? c : rng.Next(t.Length);
            float orig = t[i];
            t[i] = orig + h;
            double lp = loss();
            t[i] = orig - h;
            double lm = loss();
            t[i] = orig;
            double fd = (lp - lm) / (2 * h);
            double an = t.Grad![i];
            double err = Math.Abs(fd - an);
            if (!(err <= absTol + relTol * Math.Max(Math.Abs(fd), Math.Abs(an))))
                Assert.Fail($"{t.Name ?? "tensor"}[{i}]: analytic {an:G6} vs finite difference {fd:G6}");
        }
    }
}
