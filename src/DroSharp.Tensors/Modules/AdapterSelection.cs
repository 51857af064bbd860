namespace DroSharp.Tensors.Modules;

/// <summary>
/// Which LoRA adapter the <see cref="Linear"/> modules of this thread use: the one named
/// <see cref="Name"/> where a module has it, none when <see cref="Name"/> is null (adapters off: the
/// base alone). <see cref="DropoutSeed"/> seeds the adapters' dropout masks (mixed with each module's
/// and adapter's name), so that a forward recomputed by <see cref="Ops.Checkpoint"/> draws the same
/// masks. The selection is captured by the ops each forward records, so one tape can hold forwards of
/// several adapters on a shared base (the policy's and the value's).
/// <code>
/// using (new AdapterSelection("policy", seed).Activate()) logp = model.Forward(batch);
/// </code>
/// </summary>
public readonly record struct AdapterSelection(string? Name, ulong DropoutSeed = 0)
{
    [ThreadStatic] private static AdapterSelection t_current;

    /// <summary>The selection of this thread (default: no adapter).</summary>
    public static AdapterSelection Current => t_current;

    /// <summary>No adapter: every module computes its base projection only.</summary>
    public static AdapterSelection None => default;

    /// <summary>Makes this the current selection until the scope is disposed.</summary>
    public Scope Activate()
    {
        var previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    public readonly struct Scope(AdapterSelection previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
