namespace DroSharp.Tensors.Optim;

/// <summary>One parameter's optimiser state: its update count and named, zero-initialised buffers.</summary>
internal sealed class ParameterState : IDisposable
{
    public ParameterState(string[] slots, Shape[] shapes)
    {
        Slots = slots;
        Shapes = shapes;
        Buffers = [];
    }

    public string[] Slots { get; }
    public Shape[] Shapes { get; }
    public Tensor[] Buffers { get; private set; }

    /// <summary>Updates applied so far (PyTorch's <c>state["step"]</c>).</summary>
    public long Step { get; set; }

    public void Allocate()
    {
        var buffers = new Tensor[Slots.Length];
        for (int k = 0; k < Slots.Length; k++) buffers[k] = Tensor.Zeros(Shapes[k]);
        Buffers = buffers;
    }

    public void Dispose()
    {
        foreach (var b in Buffers) b.Dispose();
        Buffers = [];
    }
}
