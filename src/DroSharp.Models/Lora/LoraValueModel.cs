using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Lora;

/// <summary>
/// DRO's value V(x) on the policy's frozen base: the family's value head on the base's own modules
/// (<see cref="IModelFamily.CreateValueModelOnBase"/>) with a LoRA adapter of its own (named
/// <see cref="AdapterName"/>) selected during its forward. <see cref="Parameters"/> = the head and the
/// adapter: what trains; <see cref="Save"/> writes them as a PEFT adapter directory with the head as
/// <c>modules_to_save</c> (<c>base_model.model.value_head.weight</c>, <c>.bias</c>).
/// </summary>
public sealed class LoraValueModel : IValueModel
{
    public const string DefaultAdapterName = "value";

    private readonly List<LoraAdapter> _adapters = new();
    private readonly IReadOnlyList<Linear> _linears;

    private LoraValueModel(IValueModel inner, IReadOnlyList<Linear> linears, string adapterName, PeftAdapterConfig config)
    {
        Inner = inner;
        _linears = linears;
        AdapterName = adapterName;
        AdapterConfig = config;
    }

    /// <summary>
    /// The value of <paramref name="onBase"/> with an adapter on those of its Linear modules that
    /// <paramref name="options"/>' targets select (none is allowed: then only the head trains),
    /// initialised as PEFT does from <paramref name="rng"/>.
    /// </summary>
    public static LoraValueModel Create(SharedBaseValue onBase, LoraOptions options, DeterministicRandom rng, string baseDirectory,
        string adapterName = DefaultAdapterName)
    {
        options.Validate();
        var selected = LoraTargets.IsAllLinear(options.Targets) ? onBase.Linears : onBase.Linears.Where(l => LoraTargets.Matches(options.Targets, l.Name)).ToList();
        var config = new PeftAdapterConfig
        {
            Rank = options.Rank, Alpha = options.Alpha, Dropout = options.Dropout, UseRsLora = options.UseRsLora,
            TargetModules = selected.Count == 0 ? options.Targets : LoraTargets.SavedNames(options.Targets, selected),
            BaseModelNameOrPath = Path.GetFullPath(baseDirectory), TaskType = null,
            ModulesToSave = onBase.Model.Parameters.All.Select(p => p.Name![..p.Name!.LastIndexOf('.')]).Distinct(StringComparer.Ordinal).ToList(),
        };
        var v = new LoraValueModel(onBase.Model, onBase.Linears, adapterName, config);
        foreach (var linear in selected)
        {
            var a = linear.AddAdapter(onBase.Model.Parameters, adapterName, options.Rank, options.Alpha, (float)options.Dropout, options.UseRsLora);
            a.InitializeAsPeft(rng);
            v._adapters.Add(a);
        }
        return v;
    }

    /// <summary>The value model on the base (its head).</summary>
    public IValueModel Inner { get; }

    public string AdapterName { get; }

    public PeftAdapterConfig AdapterConfig { get; }

    public IReadOnlyList<LoraAdapter> Adapters => _adapters;

    /// <summary>Seeds the adapter's dropout masks (see <see cref="LoraPolicyModel.DropoutSeed"/>).</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>The head's parameters and the adapter's tensors.</summary>
    public ParameterSet Parameters => Inner.Parameters;

    public bool ReadsPolicyFeatures => false;

    public Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput)
    {
        using var _ = new AdapterSelection(AdapterName, DropoutSeed).Activate();
        return Inner.Forward(batch, policyOutput);
    }

    /// <summary>The value's FLOPs on the frozen base (its projections counted as frozen), plus the adapter's products.</summary>
    public MatmulFlops ForwardFlops(SequenceBatch batch)
    {
        // The value head trains, so "frozen" is asked of the adapted Linear modules, not of every parameter.
        bool baseFrozen = !_linears.Any(l => l.HasFloat32Weight && l.Weight.RequiresGrad);
        return LoraFlops.Adapted(Inner.ForwardFlops(batch), baseFrozen, _linears, _adapters);
    }

    public void Save(string directory) => PeftAdapterFiles.Save(directory, AdapterConfig, Parameters);

    public void Dispose()
    {
        foreach (var a in _adapters) a.Module.RemoveAdapter(AdapterName);
        _adapters.Clear();
        Inner.Dispose();
    }
}
