namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// T5's layer norm over the last axis, no mean subtraction and no bias:
    /// y = weight ⊙ x / √(mean(x²) + eps). x: [..., d], weight: [d].
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps) => throw new NotImplementedException();

    /// <summary>Softmax over the last axis (forward only is enough for sampling; records for autograd too).</summary>
    public static Tensor Softmax(Tensor x) => throw new NotImplementedException();

    /// <summary>Log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor x) => throw new NotImplementedException();
}
