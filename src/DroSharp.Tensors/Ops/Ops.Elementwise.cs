namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>a + b, same shape (residual connections).</summary>
    public static Tensor Add(Tensor a, Tensor b) => throw new NotImplementedException();

    /// <summary>a − b, same shape.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => throw new NotImplementedException();

    /// <summary>a ⊙ b, same shape.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => throw new NotImplementedException();

    /// <summary>s·a.</summary>
    public static Tensor Scale(Tensor a, float s) => throw new NotImplementedException();

    /// <summary>x + bias broadcast over rows. x: [..., n], bias: [n].</summary>
    public static Tensor AddBias(Tensor x, Tensor bias) => throw new NotImplementedException();

    /// <summary>max(x, 0) (T5 v1.0 feed-forward).</summary>
    public static Tensor Relu(Tensor x) => throw new NotImplementedException();

    /// <summary>gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Tensor GeluNew(Tensor x) => throw new NotImplementedException();

    /// <summary>gelu_new(gate) ⊙ linear, fused (T5 v1.1 / Flan gated feed-forward: act(wi_0 x) ⊙ wi_1 x).</summary>
    public static Tensor GatedGelu(Tensor gate, Tensor linear) => throw new NotImplementedException();

    /// <summary>
    /// Inverted dropout: keeps each element with probability 1−p and scales it by 1/(1−p). The mask
    /// is a pure function of (seed, index), so backward regenerates it instead of storing it.
    /// p = 0 returns x itself.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, ulong seed) => throw new NotImplementedException();

    /// <summary>The same data seen with another shape; gradients flow back to <paramref name="x"/>.</summary>
    public static Tensor Reshape(Tensor x, Shape shape) => throw new NotImplementedException();
}
