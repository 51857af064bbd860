namespace DroSharp.Tensors.Tests;

public unsafe class BFloat16MatrixTests
{
    [Fact]
    public void FromFloat32RoundsEachElementAndToFloat32WidensExactly()
    {
        var rng = new Random(5);
        using var w = TestUtil.Random(rng, new Shape(13, 37), scale: 3f);
        w.Name = "model.layers.0.mlp.down_proj.weight";
        w[5] = float.NaN;
        w[6] = float.PositiveInfinity;
        using var m = BFloat16Matrix.FromFloat32(w);
        Assert.Equal(13, m.Rows);
        Assert.Equal(37, m.Cols);
        Assert.Equal(new Shape(13, 37), m.Shape);
        Assert.Equal(w.Name, m.Name);
        Assert.Equal(0, (long)m.Data % Tensor.Alignment);
        for (int i = 0; i < w.Length; i++) Assert.Equal(BFloat16Conversion.FromSingle(w[i]), m.Span[i]);
        Assert.Equal(BFloat16Conversion.QuietNaN, m.Span[5]);

        using var back = m.ToFloat32();
        Assert.Equal(w.Shape, back.Shape);
        Assert.Equal(w.Name, back.Name);
        for (int i = 0; i < w.Length; i++)
        {
            Assert.Equal((uint)m.Span[i] << 16, BitConverter.SingleToUInt32Bits(back[i]));
            // Relative rounding error of bfloat16 (8 significant bits): at most 2⁻⁸.
            if (float.IsFinite(w[i])) Assert.True(Math.Abs(back[i] - w[i]) <= Math.Abs(w[i]) * (1.0 / 256), $"[{i}] {w[i]} → {back[i]}");
        }
    }

    [Fact]
    public void RejectsTensorsThatAreNotMatrices()
    {
        using var v = Tensor.Zeros(7);
        v.Name = "bias";
        var e = Assert.Throws<ArgumentException>(() => BFloat16Matrix.FromFloat32(v));
        Assert.Contains("bias", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BFloat16Matrix.Uninitialized(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => BFloat16Matrix.Uninitialized(1 << 16, 1 << 16));
    }

    [Fact]
    public void DisposeFreesOnce()
    {
        var m = BFloat16Matrix.Uninitialized(0, 5);
        Assert.Equal(0, m.Length);
        m.Dispose();
        m.Dispose();
        Assert.True(m.Data == null);
    }
}
