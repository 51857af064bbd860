namespace DroSharp.Tensors.Autograd;

/// <summary>
/// The autograd tape: coarse operations (matmul, attention, norm, …) append a <see cref="TapeRecord"/>
/// with a hand-written backward while the tape is active and recording; <see cref="Backward(Tensor)"/>
/// replays them in reverse. Op outputs and gradients of intermediates live in the tape's
/// <see cref="Arena"/>; gradients of parameters (tensors that own their memory) are owned tensors
/// that accumulate across backward passes until the optimiser zeroes them.
/// <code>
/// using var tape = new Tape();
/// using (tape.Activate()) { var loss = model.Loss(batch); tape.Backward(loss); }
/// optimiser.Step(); tape.Reset();
/// </code>
/// </summary>
public sealed unsafe class Tape : IDisposable
{
    [ThreadStatic] private static Tape? t_current;

    private TapeRecord[] _records = new TapeRecord[256];
    private int _count;
    private Tape? _checkpointTape;

    // Arena blocks of intermediates' gradients that a finished backward step no longer needs, by element
    // count: the next gradient of that size reuses one instead of growing the arena.
    private readonly Dictionary<int, Stack<IntPtr>> _freeGradients = new();

    public Tape(bool recording = true, long initialArenaBytes = 1 << 20)
    {
        Recording = recording;
        Arena = new TensorArena(initialArenaBytes);
    }

    /// <summary>The active tape of this thread, or null (then ops allocate owned tensors and record nothing).</summary>
    public static Tape? Current => t_current;

    public TensorArena Arena { get; }

    /// <summary>False for inference: ops use the arena but record nothing.</summary>
    public bool Recording { get; set; }

    /// <summary>
    /// When true (the default), the gradient of an intermediate is recycled as soon as the backward of
    /// the op that produced it has run — every consumer has added to it by then — so a backward pass
    /// needs gradient memory for a few ops at a time instead of one buffer per activation. Set to false
    /// to read intermediates' gradients after <see cref="Backward(Tensor)"/>.
    /// </summary>
    public bool RecycleGradients { get; set; } = true;

    public int Count => _count;

    /// <summary>
    /// Activation checkpointing: while this tape records, models run each transformer block through
    /// <see cref="Ops.Checkpoint"/>, which keeps only the block's input and output and recomputes the
    /// block's forward inside its backward (less memory, one more forward per block).
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// Whether models should run each block through <see cref="Ops.Checkpoint"/>: with <see cref="GradientCheckpointing"/>,
    /// and always without recording (scoring, the reference, evaluation), where it frees each block's intermediates
    /// when the block is done.
    /// </summary>
    public bool RunsBlocksApart => !Recording || GradientCheckpointing;

    /// <summary>The nested tape <see cref="Ops.Checkpoint"/> runs blocks on (created on first use, reset after each use).</summary>
    internal Tape CheckpointTape => _checkpointTape ??= new Tape();

    /// <summary>The records so far, oldest first.</summary>
    internal ReadOnlySpan<TapeRecord> Records => _records.AsSpan(0, _count);

    /// <summary>Makes this tape the current one until the scope is disposed.</summary>
    public Scope Activate()
    {
        var previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    public readonly struct Scope(Tape? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }

    /// <summary>A tensor for an op's output: from the current tape's arena, or owned when no tape is active.</summary>
    public static Tensor NewTensor(Shape shape) =>
        t_current is { } tape ? tape.Arena.Uninitialized(shape) : Tensor.Uninitialized(shape);

    /// <summary>
    /// <paramref name="source"/>'s memory seen with another shape: a pooled arena header when a tape is
    /// active (no managed allocation), else a fresh view.
    /// </summary>
    public static unsafe Tensor NewView(Tensor source, Shape shape)
    {
        if (shape.Count != source.Length) throw new ArgumentException($"cannot view {source.Shape} as {shape}");
        return t_current is { } tape ? tape.Arena.View(source.Data, shape) : source.Reshape(shape);
    }

    /// <summary>A zeroed tensor, allocated as <see cref="NewTensor"/> does.</summary>
    public static Tensor NewZeros(Shape shape)
    {
        var t = NewTensor(shape);
        t.Clear();
        return t;
    }

    /// <summary>
    /// The tape an op should record on: the current one if it is recording and any input needs a
    /// gradient, else null. Ops mark their output <c>RequiresGrad</c> when this is non-null.
    /// </summary>
    public static Tape? RecordingFor(Tensor? a, Tensor? b = null, Tensor? c = null, Tensor? d = null)
    {
        var tape = t_current;
        if (tape is null || !tape.Recording) return null;
        bool any = (a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false) || (d?.RequiresGrad ?? false);
        return any ? tape : null;
    }

    public void Record(in TapeRecord record)
    {
        if (_count == _records.Length) Array.Resize(ref _records, _records.Length * 2);
        _records[_count++] = record;
        if (record.Out is { } o) o.RequiresGrad = true;
    }

    /// <summary>
    /// The gradient buffer of <paramref name="t"/>, created zeroed on first use: owned for a
    /// parameter, from the arena for an intermediate. Returns null when t needs no gradient.
    /// </summary>
    public Tensor? GradOf(Tensor? t)
    {
        if (t is null || !t.RequiresGrad) return null;
        if (t.Grad is null)
            t.Grad = t.OwnsMemory ? Tensor.Zeros(t.Shape) : IntermediateGradient(t.Shape, zero: true);
        return t.Grad;
    }

    /// <summary>
    /// The gradient buffer of <paramref name="t"/> for a backward that will write every element of it.
    /// When t is an intermediate with no gradient yet (this op is the first, in backward order, to
    /// send it one), the buffer comes from the arena uninitialised and <paramref name="overwrite"/> is
    /// true: the caller must store, not add, and skips a clearing pass. Otherwise it is
    /// <see cref="GradOf"/>'s buffer and overwrite is false (accumulate). Null when t needs no gradient.
    /// </summary>
    public Tensor? GradForWrite(Tensor? t, out bool overwrite)
    {
        overwrite = false;
        if (t is null || !t.RequiresGrad) return null;
        if (t.Grad is null && !t.OwnsMemory)
        {
            t.Grad = IntermediateGradient(t.Shape, zero: false);
            overwrite = true;
            return t.Grad;
        }
        return GradOf(t);
    }

    /// <summary>
    /// Backpropagates d(loss)/d(loss) = 1 from a one-element loss. Each call is a separate
    /// propagation whose results add up in the parameters' gradients (see <see cref="Backward(Tensor, Tensor)"/>).
    /// </summary>
    public void Backward(Tensor loss)
    {
        if (loss.Length != 1) throw new ArgumentException($"Backward(loss) needs a one-element tensor, got {loss.Shape}; pass a gradient for other outputs");
        if (!loss.RequiresGrad) throw new InvalidOperationException("the loss does not depend on any parameter on this tape");
        ForgetIntermediateGradients();
        GradOf(loss)![0] += 1f;
        RunBackward();
    }

    /// <summary>
    /// Backpropagates a given gradient of <paramref name="output"/>. The gradients of intermediates
    /// left by an earlier call on this tape are dropped first, so that a second call does not replay
    /// the first one's graph: parameters accumulate the sum of the calls, as with separate losses.
    /// Intermediates' gradients stay readable until the next call or <see cref="Reset"/>.
    /// </summary>
    public void Backward(Tensor output, Tensor gradOutput)
    {
        if (gradOutput.Length != output.Length) throw new ArgumentException($"gradient {gradOutput.Shape} for output {output.Shape}");
        if (!output.RequiresGrad) throw new InvalidOperationException("the output does not depend on any parameter on this tape");
        ForgetIntermediateGradients();
        var g = GradOf(output)!;
        System.Numerics.Tensors.TensorPrimitives.Add(g.Span, gradOutput.Span, g.Span);
        RunBackward();
    }

    /// <summary>
    /// Backpropagates several outputs at once, each with its given gradient (e.g. a policy's
    /// log-probs and a value head on the same backbone): one propagation, so a shared intermediate
    /// receives the sum of both gradients before its own backward runs. Outputs that depend on no
    /// parameter are skipped; if none does, nothing happens.
    /// </summary>
    public void Backward(ReadOnlySpan<(Tensor Output, Tensor Gradient)> seeds)
    {
        bool any = false;
        foreach (var (output, gradient) in seeds)
        {
            if (gradient.Length != output.Length) throw new ArgumentException($"gradient {gradient.Shape} for output {output.Shape}");
            any |= output.RequiresGrad;
        }
        if (!any) return;
        ForgetIntermediateGradients();
        foreach (var (output, gradient) in seeds)
        {
            if (!output.RequiresGrad) continue;
            var g = GradOf(output)!;
            System.Numerics.Tensors.TensorPrimitives.Add(g.Span, gradient.Span, g.Span);
        }
        RunBackward();
    }

    /// <summary>
    /// Backpropagates <paramref name="gradient"/> as the gradient of <paramref name="output"/> itself (the
    /// buffer is used, not copied: it must outlive the call): <see cref="Ops.Checkpoint"/> hands the
    /// outer tape's gradient of a block's output to the block recomputed on this tape.
    /// </summary>
    internal void BackwardFrom(Tensor output, Tensor gradient)
    {
        if (gradient.Length != output.Length) throw new ArgumentException($"gradient {gradient.Shape} for output {output.Shape}");
        ForgetIntermediateGradients();
        output.Grad = gradient;
        RunBackward();
    }

    // Every recorded output is an intermediate (arena memory); leaves and parameters keep theirs.
    private void ForgetIntermediateGradients()
    {
        for (int i = 0; i < _count; i++)
            if (_records[i].Out is { OwnsMemory: false } o) o.Grad = null;
    }

    private void RunBackward()
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            ref var r = ref _records[i];
            if (r.Out is { Grad: null }) continue; // nothing flowed back into this op
            r.Backward(ref r, this);
            // Every consumer of Out ran before this op (reverse order): its gradient is dead now.
            if (RecycleGradients && r.Out is { OwnsMemory: false, Grad: { } g })
            {
                r.Out.Grad = null;
                int n = Math.Max(1, g.Length);
                if (!_freeGradients.TryGetValue(n, out var stack)) _freeGradients[n] = stack = new Stack<IntPtr>();
                stack.Push((IntPtr)g.Data);
            }
        }
    }

    /// <summary>A gradient buffer for an intermediate: a recycled arena block of the same size, or a new one.</summary>
    private Tensor IntermediateGradient(Shape shape, bool zero)
    {
        if (_freeGradients.TryGetValue(Math.Max(1, shape.Count), out var stack) && stack.Count > 0)
        {
            var t = Arena.View((float*)stack.Pop(), shape);
            if (zero) t.Clear();
            return t;
        }
        return zero ? Arena.Zeros(shape) : Arena.Uninitialized(shape);
    }

    /// <summary>Forgets the records and frees every arena tensor (activations and their gradients).</summary>
    public void Reset()
    {
        Array.Clear(_records, 0, _count);
        _count = 0;
        foreach (var stack in _freeGradients.Values) stack.Clear(); // kept: no allocation in steady state
        Arena.Reset();
        _checkpointTape?.Reset();
    }

    public void Dispose()
    {
        if (t_current == this) t_current = null;
        _checkpointTape?.Dispose();
        Array.Clear(_records, 0, _count);
        _count = 0;
        Arena.Dispose();
    }
}
