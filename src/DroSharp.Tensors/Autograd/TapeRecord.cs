namespace DroSharp.Tensors.Autograd;

/// <summary>
/// One recorded operation: its backward function and what that function needs. A struct in a
/// reusable array, so recording allocates nothing. Field meaning is private to each op and is
/// documented next to its forward; by convention <see cref="Out"/> is the op's output, A–D its
/// inputs, S0–S1 saved intermediates, I0–I5 and F0–F1 sizes and scalars.
/// </summary>
public unsafe struct TapeRecord
{
    public delegate*<ref TapeRecord, Tape, void> Backward;
    public Tensor? Out;
    public Tensor? A;
    public Tensor? B;
    public Tensor? C;
    public Tensor? D;
    public Tensor? S0;
    public Tensor? S1;
    public int I0, I1, I2, I3, I4, I5;
    public float F0, F1;
    /// <summary>Rarely needed extra state (e.g. token ids owned by the caller, unchanged until backward).</summary>
    public object? Extra;
}
