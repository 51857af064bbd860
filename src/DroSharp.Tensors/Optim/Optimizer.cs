using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Optim;

/// <summary>
/// An optimiser over a fixed list of parameters (tensors that own their memory, with
/// <see cref="Tensor.RequiresGrad"/> and a unique <see cref="Tensor.Name"/>).
/// <para>
/// <see cref="Step"/> updates every parameter whose <see cref="Tensor.Grad"/> is not null and skips
/// the others, as PyTorch does; each parameter keeps its own update count and lazily created
/// state (the same names as PyTorch's <c>optimizer.state[p]</c>), so a parameter that sat out
/// steps continues exactly as it would in PyTorch. The learning rate comes from the caller (a
/// <see cref="LearningRateSchedule"/>) on every step. State export/import gives bit-identical
/// continuation.
/// </para>
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly ParameterState?[] _state;
    private readonly bool[] _decays;
    private readonly Dictionary<string, int> _indexByName = new(StringComparer.Ordinal);

    private protected Optimizer(IReadOnlyList<Tensor> parameters, Func<Tensor, bool>? weightDecayFilter)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("the optimiser got an empty parameter list", nameof(parameters));
        _parameters = new Tensor[parameters.Count];
        _state = new ParameterState?[parameters.Count];
        _decays = new bool[parameters.Count];
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentException($"parameter {i} is null", nameof(parameters));
            if (string.IsNullOrEmpty(p.Name)) throw new ArgumentException($"parameter {i} ({p.Shape}) has no name; the optimiser state is keyed by parameter names", nameof(parameters));
            if (!p.OwnsMemory) throw new ArgumentException($"parameter '{p.Name}' does not own its memory (a view or an arena tensor cannot be a parameter)", nameof(parameters));
            if (!p.RequiresGrad) throw new ArgumentException($"parameter '{p.Name}' does not require a gradient", nameof(parameters));
            if (!seen.Add(p)) throw new ArgumentException($"parameter '{p.Name}' appears twice in the list", nameof(parameters));
            if (!_indexByName.TryAdd(p.Name, i)) throw new ArgumentException($"two parameters are named '{p.Name}'", nameof(parameters));
            _parameters[i] = p;
            _decays[i] = weightDecayFilter?.Invoke(p) ?? true;
        }
    }

    /// <summary>State kind written into <see cref="OptimizerState.Kind"/>.</summary>
    public abstract string Kind { get; }

    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>Number of <see cref="Step"/> calls so far (restored by <see cref="ImportState"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>Number of updates parameter <paramref name="index"/> has had (0 before its first gradient).</summary>
    public long ParameterStepCount(int index) => _state[index]?.Step ?? 0;

    /// <summary>True when weight decay applies to parameter <paramref name="index"/> (see the constructor's filter).</summary>
    public bool DecaysParameter(int index) => _decays[index];

    /// <summary>The pool the kernels run on; tests swap it to check that results do not depend on the thread count.</summary>
    internal WorkerPool Pool { get; set; } = WorkerPool.Default;

    /// <summary>
    /// Updates every parameter that has a gradient with learning rate <paramref name="learningRate"/>
    /// (double, as PyTorch keeps it; the per-step scalars are formed in double and rounded to float
    /// where PyTorch rounds them).
    /// </summary>
    public void Step(double learningRate)
    {
        if (!double.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate {learningRate} must be finite and ≥ 0");
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            var g = p.Grad;
            if (g is null) continue;
            if (!g.Shape.Equals(p.Shape))
                throw new InvalidOperationException($"parameter '{p.Name}' has shape {p.Shape} but its gradient has shape {g.Shape}");
            var s = _state[i] ??= CreateState(p);
            s.Step++;
            Update(p, g, s, learningRate, _decays[i]);
        }
        StepCount++;
    }

    /// <summary>
    /// Clears the gradients. With <paramref name="setToNone"/> (PyTorch's default since 2.0) the
    /// gradient tensors are disposed and set to null, so a parameter that receives no gradient in
    /// the next backward is skipped by the next step; the tape then allocates fresh gradients each
    /// step. Without it the buffers are kept and zeroed (no allocation; an unused parameter then
    /// has a zero gradient and is still updated, as with PyTorch's <c>set_to_none=False</c>).
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in _parameters)
        {
            if (p.Grad is not { } g) continue;
            if (setToNone)
            {
                p.Grad = null;
                g.Dispose();
            }
            else g.Clear();
        }
    }

    /// <summary>
    /// The optimiser's state: views of its live buffers (no copy) plus counters. See
    /// <see cref="OptimizerState"/> for the names.
    /// </summary>
    public OptimizerState ExportState()
    {
        var state = new OptimizerState(Kind);
        state.Counters["step"] = StepCount;
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_state[i] is not { } s) continue;
            string name = _parameters[i].Name!;
            state.Counters["step." + name] = s.Step;
            for (int k = 0; k < s.Slots.Length; k++)
                state.Tensors[s.Slots[k] + "." + name] = s.Buffers[k].Reshape(s.Buffers[k].Shape);
        }
        return state;
    }

    /// <summary>
    /// Replaces the whole state by <paramref name="state"/> (values are copied). Everything is
    /// checked before anything changes: the kind, every key (a known slot of a known parameter),
    /// every shape, and that each parameter with a step counter has all its tensors and vice versa.
    /// Parameters absent from the state start fresh, as in PyTorch.
    /// </summary>
    public void ImportState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != Kind)
            throw new InvalidDataException($"optimiser state was written by '{state.Kind}', this optimiser is '{Kind}'");
        if (!state.Counters.TryGetValue("step", out long stepCount))
            throw new InvalidDataException("optimiser state has no 'step' counter");
        if (stepCount < 0) throw new InvalidDataException($"optimiser state counter 'step' is {stepCount}");

        var steps = new long[_parameters.Length];
        foreach (var (key, value) in state.Counters)
        {
            if (key == "step") continue;
            if (!key.StartsWith("step.", StringComparison.Ordinal) || !_indexByName.TryGetValue(key[5..], out int i))
                throw new InvalidDataException($"optimiser state counter '{key}' names no parameter of this optimiser");
            if (value < 1) throw new InvalidDataException($"optimiser state counter '{key}' is {value}; a parameter with state has had at least one update");
            steps[i] = value;
        }

        var incoming = new Tensor?[_parameters.Length][];
        var layouts = new ParameterState?[_parameters.Length];
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (steps[i] == 0) continue;
            layouts[i] = DescribeState(_parameters[i]);
            incoming[i] = new Tensor?[layouts[i]!.Slots.Length];
        }
        foreach (var (key, tensor) in state.Tensors)
        {
            int dot = key.IndexOf('.');
            int i = -1;
            if (dot <= 0 || !_indexByName.TryGetValue(key[(dot + 1)..], out i))
                throw new InvalidDataException($"optimiser state tensor '{key}' names no parameter of this optimiser");
            string slot = key[..dot];
            var layout = layouts[i] ?? throw new InvalidDataException(
                $"optimiser state tensor '{key}' belongs to parameter '{_parameters[i].Name}', which has no 'step.{_parameters[i].Name}' counter");
            int k = Array.IndexOf(layout.Slots, slot);
            if (k < 0)
                throw new InvalidDataException($"optimiser state tensor '{key}': '{slot}' is not a {Kind} slot of parameter '{_parameters[i].Name}' (expected {string.Join(", ", layout.Slots)})");
            if (!tensor.Shape.Equals(layout.Shapes[k]))
                throw new InvalidDataException($"optimiser state tensor '{key}' has shape {tensor.Shape}, expected {layout.Shapes[k]}");
            incoming[i][k] = tensor;
        }
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (layouts[i] is not { } layout) continue;
            for (int k = 0; k < layout.Slots.Length; k++)
                if (incoming[i][k] is null)
                    throw new InvalidDataException($"optimiser state has no tensor '{layout.Slots[k]}.{_parameters[i].Name}'");
        }

        // Everything checked: now replace.
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (steps[i] == 0)
            {
                _state[i]?.Dispose();
                _state[i] = null;
                continue;
            }
            var s = _state[i] ??= CreateState(_parameters[i]);
            s.Step = steps[i];
            for (int k = 0; k < s.Buffers.Length; k++) s.Buffers[k].CopyFrom(incoming[i][k]!);
        }
        StepCount = stepCount;
    }

    /// <summary>Frees the state buffers (the parameters and their gradients are the caller's).</summary>
    public void Dispose()
    {
        for (int i = 0; i < _state.Length; i++)
        {
            _state[i]?.Dispose();
            _state[i] = null;
        }
        ReleaseScratch();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees buffers a subclass keeps between steps.</summary>
    private protected virtual void ReleaseScratch() { }

    /// <summary>The slot names and shapes of one parameter's state (buffers not allocated).</summary>
    private protected abstract ParameterState DescribeState(Tensor parameter);

    /// <summary>Applies one update to <paramref name="p"/>; <paramref name="state"/>.Step is already incremented.</summary>
    private protected abstract void Update(Tensor p, Tensor grad, ParameterState state, double learningRate, bool decay);

    private ParameterState CreateState(Tensor p)
    {
        var s = DescribeState(p);
        s.Allocate();
        return s;
    }
}
