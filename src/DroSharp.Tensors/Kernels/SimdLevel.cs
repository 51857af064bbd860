namespace DroSharp.Tensors.Kernels;

/// <summary>The widest vector instructions a kernel may use.</summary>
public enum SimdLevel
{
    Scalar = 0,
    Vector256 = 256,
    Vector512 = 512,
}
