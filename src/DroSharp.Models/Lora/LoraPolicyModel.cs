using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Lora;

/// <summary>
/// A policy that is a (frozen) base model plus one named LoRA adapter on some of its Linear modules
/// (PEFT's <c>PeftModel</c>): every call runs the base's own code with the adapter selected
/// (<see cref="AdapterSelection"/>). <see cref="Parameters"/> holds the adapter's tensors only — what
/// trains, and what <see cref="Save"/> writes as a PEFT adapter directory naming the base. With no
/// adapter (<see cref="AdaptersOff"/>) it is the base alone: the reference policy of a LoRA run, on the
/// same weights as the policy, with no second copy.
/// </summary>
public sealed class LoraPolicyModel : IPolicyModel
{
    /// <summary>The adapter name of a loaded adapter, and of the policy's adapter in training.</summary>
    public const string DefaultAdapterName = "policy";

    private readonly bool _ownsBase;
    private readonly List<LoraAdapter> _adapters = new();

    private LoraPolicyModel(IPolicyModel basePolicy, string baseDirectory, string? adapterName, bool ownsBase)
    {
        Base = basePolicy;
        BaseDirectory = Path.GetFullPath(baseDirectory);
        AdapterName = adapterName;
        _ownsBase = ownsBase;
    }

    /// <summary>The base model (its parameters: <c>Base.Parameters</c>).</summary>
    public IPolicyModel Base { get; }

    /// <summary>The absolute path of the directory the base was loaded from (<c>base_model_name_or_path</c>).</summary>
    public string BaseDirectory { get; }

    /// <summary>The adapter this policy selects, or null for the base alone.</summary>
    public string? AdapterName { get; }

    /// <summary>The adapter's config (what <see cref="Save"/> writes), or null for the base alone.</summary>
    public PeftAdapterConfig? AdapterConfig { get; private set; }

    /// <summary>The adapter's modules, in the base's module order.</summary>
    public IReadOnlyList<LoraAdapter> Adapters => _adapters;

    /// <summary>Seeds the adapter's dropout masks (set per micro-batch by the trainer, so that a resumed run draws the same masks).</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>The selection every call runs under.</summary>
    public AdapterSelection Selection => new(AdapterName, DropoutSeed);

    /// <summary>
    /// The base plus a new adapter named <paramref name="adapterName"/> on the Linear modules that
    /// <paramref name="options"/>' targets select, initialised as PEFT does (A Kaiming-uniform from
    /// <paramref name="rng"/>, in module order; B zero). <paramref name="ownsBase"/>: dispose the base with this.
    /// </summary>
    public static LoraPolicyModel Create(IPolicyModel basePolicy, string baseDirectory, LoraOptions options, DeterministicRandom rng,
        string adapterName = DefaultAdapterName, bool ownsBase = true)
    {
        ArgumentNullException.ThrowIfNull(basePolicy);
        options.Validate();
        var selected = LoraTargets.Select(basePolicy.Parameters.Linears, options.Targets);
        var m = new LoraPolicyModel(basePolicy, baseDirectory, adapterName, ownsBase);
        foreach (var linear in selected)
        {
            var a = linear.AddAdapter(m.Parameters, adapterName, options.Rank, options.Alpha, (float)options.Dropout, options.UseRsLora);
            a.InitializeAsPeft(rng);
            m._adapters.Add(a);
        }
        m.AdapterConfig = new PeftAdapterConfig
        {
            Rank = options.Rank, Alpha = options.Alpha, Dropout = options.Dropout, UseRsLora = options.UseRsLora,
            TargetModules = LoraTargets.SavedNames(options.Targets, selected), BaseModelNameOrPath = m.BaseDirectory,
            TaskType = basePolicy.Family.PeftTaskType,
        };
        return m;
    }

    /// <summary>The base alone, adapters off, not owning it (the reference of a LoRA run).</summary>
    public static LoraPolicyModel AdaptersOff(IPolicyModel basePolicy, string baseDirectory) =>
        new(basePolicy, baseDirectory, adapterName: null, ownsBase: false);

    /// <summary>
    /// Loads a PEFT adapter directory onto its base: <paramref name="baseDirectory"/>, or the config's
    /// <c>base_model_name_or_path</c> (a local directory: absolute, relative to the working directory,
    /// or relative to the adapter). The adapted modules are those of the file's keys; each must be a
    /// Linear module of the base with matching shapes.
    /// </summary>
    public static LoraPolicyModel Load(string adapterDirectory, string? baseDirectory = null, BaseWeightDtype baseDtype = BaseWeightDtype.Float32)
    {
        var config = PeftAdapterConfig.Load(adapterDirectory);
        string configPath = Path.Combine(adapterDirectory, PeftAdapterConfig.FileName);
        string baseDir = baseDirectory ?? ResolveBase(config, adapterDirectory, configPath);
        var basePolicy = LoraModelSet.LoadBase(baseDir, baseDtype);
        var m = new LoraPolicyModel(basePolicy, baseDir, DefaultAdapterName, ownsBase: true);
        try
        {
            if (config.TaskType is { } task && task != basePolicy.Family.PeftTaskType)
                throw new CheckpointFormatException(configPath, "task_type", $"is {task}, but the base model {baseDir} is a {basePolicy.Family.PeftTaskType} model");
            using var reader = PeftAdapterFiles.OpenWeights(adapterDirectory);
            var (modules, other) = PeftAdapterFiles.ReadLayout(reader);
            if (other.Count > 0)
                throw new CheckpointFormatException(reader.FilePath, other[0], "is a whole module saved beside the adapter (modules_to_save); a policy adapter with such modules is not supported");
            if (modules.Count == 0) throw new CheckpointFormatException(reader.FilePath, null, "holds no lora_A/lora_B weights");
            var byName = basePolicy.Parameters.Linears.ToDictionary(l => l.Name, StringComparer.Ordinal);
            foreach (var (module, (keyA, _)) in modules)
                if (!byName.ContainsKey(module))
                    throw new CheckpointFormatException(reader.FilePath, keyA, $"adapts {module}, which is not a Linear module of the base model {baseDir}");
            foreach (var linear in basePolicy.Parameters.Linears) // in the base's module order, as Create attaches them
            {
                if (!modules.TryGetValue(linear.Name, out var keys)) continue;
                var (keyA, keyB) = keys;
                string module = linear.Name;
                var infoA = reader.GetInfo(keyA);
                var infoB = reader.GetInfo(keyB);
                if (infoA.Rank != 2 || infoA.Shape[0] != config.Rank || infoA.Shape[1] != linear.InFeatures)
                    throw new CheckpointFormatException(reader.FilePath, keyA, $"shape {infoA.ShapeString}, expected [{config.Rank}, {linear.InFeatures}] (r, in features of {module})");
                if (infoB.Rank != 2 || infoB.Shape[0] != linear.OutFeatures || infoB.Shape[1] != config.Rank)
                    throw new CheckpointFormatException(reader.FilePath, keyB, $"shape {infoB.ShapeString}, expected [{linear.OutFeatures}, {config.Rank}] (out features of {module}, r)");
                foreach (var info in new[] { infoA, infoB })
                    if (!info.Dtype.IsReadableAsFloat32()) throw new CheckpointFormatException(reader.FilePath, info.Name, $"dtype {info.Dtype} cannot be read as float32");
                var a = linear.AddAdapter(m.Parameters, DefaultAdapterName, config.Rank, config.Alpha, (float)config.Dropout, config.UseRsLora);
                m._adapters.Add(a);
                reader.ReadInto(keyA, a.A);
                reader.ReadInto(keyB, a.B);
            }
            m.AdapterConfig = config with { BaseModelNameOrPath = m.BaseDirectory };
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    private static string ResolveBase(PeftAdapterConfig config, string adapterDirectory, string configPath)
    {
        string b = config.BaseModelNameOrPath
                   ?? throw new CheckpointFormatException(configPath, "base_model_name_or_path", "is missing; give the base model directory explicitly");
        foreach (string candidate in Path.IsPathRooted(b) ? [b] : new[] { Path.GetFullPath(b), Path.GetFullPath(Path.Combine(adapterDirectory, b)) })
            if (Directory.Exists(candidate)) return candidate;
        throw new CheckpointFormatException(configPath, "base_model_name_or_path",
            $"\"{b}\" is not a local model directory (DroSharp does not download models); give the base model directory explicitly");
    }

    public IModelFamily Family => Base.Family;

    public IModelConfig Config => Base.Config;

    /// <summary>The adapter's tensors (<c>{module}.lora_A.{adapter}.weight</c>, …); empty for the base alone.</summary>
    public ParameterSet Parameters { get; } = new();

    public SpecialTokens Tokens => Base.Tokens;

    /// <summary>Re-draws the adapter as PEFT initialises it (A Kaiming-uniform, B zero); the base is untouched.</summary>
    public void InitializeWeights(DeterministicRandom rng)
    {
        foreach (var a in _adapters) a.InitializeAsPeft(rng);
    }

    public SequenceBatch CreateBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions) => Base.CreateBatch(prompts, completions);

    public PolicyOutput Forward(SequenceBatch batch, bool withPromptFeatures = false)
    {
        using var _ = Selection.Activate();
        return Base.Forward(batch, withPromptFeatures);
    }

    public Tensor NextTokenLogits(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> prefixes)
    {
        using var _ = Selection.Activate();
        return Base.NextTokenLogits(prompts, prefixes);
    }

    /// <summary>
    /// The base's FLOPs, its projections counted as frozen when no base weight trains, plus the adapter's
    /// products (<see cref="LoraFlops.Adapters"/>).
    /// </summary>
    public MatmulFlops ForwardFlops(SequenceBatch batch) => LoraFlops.Adapted(Base.ForwardFlops(batch), Base.Parameters, Base.Parameters.Linears, _adapters);

    public IIncrementalDecoder StartDecoding(IReadOnlyList<int[]> prompts, int maxNewTokens)
    {
        var selection = Selection;
        using var _ = selection.Activate();
        return new AdaptedDecoder(Base.StartDecoding(prompts, maxNewTokens), selection);
    }

    /// <summary>
    /// Writes the adapter as PEFT does: <c>adapter_config.json</c> (naming the base by absolute path) and
    /// <c>adapter_model.safetensors</c>. The base is not written (merge it with <see cref="LoraMerge"/>).
    /// </summary>
    public void Save(string directory)
    {
        if (AdapterConfig is null) throw new InvalidOperationException("the base model with adapters off has no adapter to save");
        PeftAdapterFiles.Save(directory, AdapterConfig, Parameters);
    }

    public void Dispose()
    {
        if (AdapterName is not null)
            foreach (var a in _adapters) a.Module.RemoveAdapter(AdapterName);
        _adapters.Clear();
        Parameters.Dispose();
        if (_ownsBase) Base.Dispose();
    }
}
