namespace DroSharp.Tensors.Tests;

/// <summary>Random inputs (never zeros) and central finite differences for backward tests.</summary>
internal static class TestUtil
{
    public static Tensor Random(Random rng, Shape shape, float scale = 1f)
    {
        var t = Tensor.Uninitialized(shape);
        for (int i = 0; i < t.Length; i++) t[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return t;
    }

    /// <summary>
    /// Compares t.Grad with (L(t+h) − L(t−h)) / 2h for every element (or a random subset of
    /// <paramref name="maxChecks"/>), in double where the loss allows.
    /// </summary>
    public static void AssertGradMatchesFiniteDifference(Tensor t, Func<float> loss, float h = 1e-2f,
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
            Assert.True(err <= absTol + relTol * Math.Max(Math.Abs(fd), Math.Abs(an)),
                $"{t.Name ?? "tensor"}[{i}]: analytic {an:G6} vs finite difference {fd:G6}");
        }
    }
}
