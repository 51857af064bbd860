namespace DroSharp.Tensors.Optim;

/// <summary>
/// Everything an optimiser needs to continue bit for bit: named tensors and integer counters, in
/// the form a checkpoint writer stores directly (tensors in a safetensors file, counters in its
/// metadata or beside it).
/// Tensor names are <c>&lt;slot&gt;.&lt;parameter name&gt;</c>, e.g. <c>exp_avg.encoder.block.0.layer.0.SelfAttention.q.weight</c>
/// (slot names contain no dot). Counters are <c>step</c> (the optimiser's <see cref="Optimizer.StepCount"/>)
/// and <c>step.&lt;parameter name&gt;</c> (the number of updates that parameter has had; a parameter
/// without state, never updated, has neither counter nor tensors, as in PyTorch).
/// </summary>
public sealed class OptimizerState
{
    public OptimizerState(string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        Kind = kind;
    }

    /// <summary>Which optimiser wrote the state (<c>adamw</c>, <c>adafactor</c>); import checks it.</summary>
    public string Kind { get; }

    /// <summary>
    /// The state tensors by name. From <see cref="Optimizer.ExportState"/> these are views of the
    /// optimiser's live buffers (no copy): write them out before the next step. Disposing them is harmless.
    /// </summary>
    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Counters { get; } = new(StringComparer.Ordinal);
}
