using System.Runtime.Intrinsics;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests.Kernels;

public class FastMathTests
{
    [Fact]
    public void ExpIsWithinTwoUlpAndUnderflowsToZero()
    {
        double worst = 0;
        for (float x = -87f; x < 88f; x += 0.0137f)
        {
            double exact = Math.Exp(x);
            float v512 = FastMath.Exp(Vector512.Create(x)).GetElement(0);
            float v256 = FastMath.Exp(Vector256.Create(x)).GetElement(0);
            worst = Math.Max(worst, Math.Abs(v512 - exact) / exact);
            worst = Math.Max(worst, Math.Abs(v256 - exact) / exact);
        }
        Assert.True(worst < 2.4e-7, $"worst relative error {worst:G3}");
        Assert.Equal(0f, FastMath.Exp(Vector512.Create(float.NegativeInfinity)).GetElement(0));
        Assert.Equal(0f, FastMath.Exp(Vector256.Create(-100f)).GetElement(0));
        Assert.Equal(1f, FastMath.Exp(Vector512.Create(0f)).GetElement(0));
    }

    [Fact]
    public void TanhIsAccurateAndSaturates()
    {
        for (float x = -20f; x < 20f; x += 0.0071f)
        {
            double exact = Math.Tanh(x);
            Assert.True(Math.Abs(FastMath.Tanh(Vector512.Create(x)).GetElement(0) - exact) < 3e-7, $"tanh({x})");
            Assert.True(Math.Abs(FastMath.Tanh(Vector256.Create(x)).GetElement(0) - exact) < 3e-7, $"tanh({x})");
        }
        Assert.Equal(1f, FastMath.Tanh(Vector512.Create(100f)).GetElement(0));
        Assert.Equal(-1f, FastMath.Tanh(Vector512.Create(-100f)).GetElement(0));
    }
}
