using System.Runtime.InteropServices;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Values;
using DroSharp.Tensors;

namespace DroSharp.Models.Lora;

/// <summary>
/// The models of a LoRA run on one frozen base, loaded once: the policy (base + <c>policy</c> adapter,
/// which owns the base), the reference (the same base with adapters off) and the value network (the
/// same base + its own <c>value</c> adapter + head). Memory ≈ one base plus adapters.
/// </summary>
public sealed class LoraModelSet
{
    private readonly List<LoraValueModel> _values = new();

    private LoraModelSet(string baseDirectory, LoraOptions options, BaseWeightDtype dtype, LoraPolicyModel policy)
    {
        BaseDirectory = Path.GetFullPath(baseDirectory);
        Options = options;
        BaseDtype = dtype;
        Policy = policy;
        Reference = LoraPolicyModel.AdaptersOff(policy.Base, baseDirectory);
    }

    /// <summary>
    /// Loads the base of <paramref name="baseDirectory"/> (frozen; Linear weights in <paramref name="dtype"/>)
    /// and attaches the policy's adapter, initialised from <paramref name="rng"/>.
    /// </summary>
    public static LoraModelSet Load(string baseDirectory, LoraOptions options, BaseWeightDtype dtype, DeterministicRandom rng)
    {
        options.Validate();
        var basePolicy = LoadBase(baseDirectory, dtype);
        try
        {
            return new LoraModelSet(baseDirectory, options, dtype, LoraPolicyModel.Create(basePolicy, baseDirectory, options, rng));
        }
        catch
        {
            basePolicy.Dispose();
            throw;
        }
    }

    public string BaseDirectory { get; }

    public LoraOptions Options { get; }

    public BaseWeightDtype BaseDtype { get; }

    /// <summary>The frozen base (owned by <see cref="Policy"/>).</summary>
    public IPolicyModel Base => Policy.Base;

    /// <summary>Base + the policy's adapter; disposing it disposes the base.</summary>
    public LoraPolicyModel Policy { get; }

    /// <summary>The base with adapters off (disposing it does nothing).</summary>
    public LoraPolicyModel Reference { get; }

    /// <summary>
    /// What the reference's log-probs depend on, for caches: the base directory's content hash, and the
    /// storage of its Linear weights when it is not float32.
    /// </summary>
    public string ReferenceKey() =>
        ModelDirectoryHash.Compute(BaseDirectory) + (BaseDtype == BaseWeightDtype.BFloat16 ? "+linear-weights-bfloat16" : "");

    /// <summary>
    /// DRO's value network: <see cref="ValueModelKind.OwnBackbone"/> is the base + a <c>value</c> adapter
    /// (on the modules the value's forward runs through that the targets select) + the family's head;
    /// the other kinds are as without LoRA (a scalar; a head on the policy's features, whose gradient then
    /// reaches the policy's adapter).
    /// </summary>
    public IValueModel CreateValueModel(ValueModelKind kind, DeterministicRandom rng)
    {
        if (kind != ValueModelKind.OwnBackbone) return Base.Family.CreateValueModel(Base, kind, rng);
        var onBase = Base.Family.CreateValueModelOnBase(Base, rng);
        try
        {
            var v = LoraValueModel.Create(onBase, Options, rng, BaseDirectory);
            _values.Add(v);
            return v;
        }
        catch
        {
            onBase.Model.Dispose();
            throw;
        }
    }

    /// <summary>Seeds the dropout masks of the policy's and the value's adapters (the trainer sets it per micro-batch).</summary>
    public void SetDropoutSeed(ulong seed)
    {
        Policy.DropoutSeed = seed;
        foreach (var v in _values) v.DropoutSeed = seed;
    }

    /// <summary>
    /// Loads a model directory as a frozen base: every parameter frozen, and with
    /// <see cref="BaseWeightDtype.BFloat16"/> every Linear weight moved to bfloat16 storage — read
    /// straight from the file when it is stored as BF16 there (no rounding), else rounded to nearest-even
    /// from the float32 values. Embeddings, norms and LM heads stay float32. (The model is first loaded
    /// in float32, so the load's peak is the float32 model.)
    /// </summary>
    public static IPolicyModel LoadBase(string directory, BaseWeightDtype dtype)
    {
        if (PeftAdapterFiles.IsAdapterDirectory(directory))
            throw new CheckpointFormatException(directory, null, "is a LoRA adapter directory, not a base model; merge it into its base first (dro merge)");
        var policy = ModelFamilies.LoadPolicy(directory);
        try
        {
            policy.Parameters.Freeze();
            if (dtype == BaseWeightDtype.BFloat16) StoreLinearsInBFloat16(policy.Parameters, directory);
            return policy;
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    /// <summary>Moves every Linear weight of <paramref name="parameters"/> (frozen) to bfloat16, reading BF16 tensors of <paramref name="directory"/> bit for bit.</summary>
    public static void StoreLinearsInBFloat16(ParameterSet parameters, string directory)
    {
        using var checkpoint = CheckpointDirectory.Open(directory);
        foreach (var linear in parameters.Linears)
        {
            if (!linear.HasFloat32Weight) continue;
            string name = linear.Name + ".weight";
            BFloat16Matrix? stored = null;
            if (checkpoint.TryGetInfo(name, out var info) && info.Dtype == SafetensorsDtype.BF16 && info.ShapeEquals(linear.Weight.Shape))
            {
                stored = BFloat16Matrix.Uninitialized(linear.OutFeatures, linear.InFeatures);
                try
                {
                    checkpoint.Files.First(f => f.Contains(name)).ReadBytes(name, MemoryMarshal.AsBytes(stored.Span));
                }
                catch
                {
                    stored.Dispose();
                    throw;
                }
            }
            parameters.StoreInBFloat16(linear, stored);
        }
    }
}
