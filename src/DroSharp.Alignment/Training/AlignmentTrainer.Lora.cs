using DroSharp.Models;
using DroSharp.Models.Lora;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

// LoRA: one frozen base for the policy (base + "policy" adapter), the reference (adapters off) and the
// value network (base + "value" adapter + head); only adapters and heads train and are checkpointed.
public sealed partial class AlignmentTrainer
{
    /// <summary>The models of the run, once <see cref="Train"/> has loaded them (tests inspect what is shared).</summary>
    internal (IPolicyModel Policy, IValueModel? Value, IPolicyModel? Reference, LoraModelSet? Lora) Models =>
        (_policy, _value, _reference?.Model, _lora);

    /// <summary>The LoRA models of <c>--lora R</c>, or null for full fine-tuning (refusing an adapter directory as --model then).</summary>
    private LoraModelSet? LoadLora()
    {
        if (PeftAdapterFiles.IsAdapterDirectory(_o.Model))
            throw new TrainingException($"--model {_o.Model} is a LoRA adapter directory; train from its base model (with --lora to train a new adapter), " +
                                        "or merge it into its base first (dro merge)");
        if (_o.LoraOptions() is not { } options) return null;
        LoraModelSet set;
        try
        {
            set = LoraModelSet.Load(_o.Model, options, _o.BaseWeightDtype, new DeterministicRandom(_o.Seed ^ 0x10_AA_AD_A9_7EUL));
        }
        catch (ArgumentException e)
        {
            throw new TrainingException($"--lora-targets {_o.LoraTargets}: {e.Message}", e);
        }
        long frozen = set.Base.Parameters.ElementCount + set.Base.Parameters.BFloat16Weights.Sum(m => (long)m.Length);
        _log.WriteLine($"LoRA r {options.Rank}, α {options.Alpha:G4}{(options.UseRsLora ? " (rsLoRA)" : "")}, dropout {options.Dropout:G3} on " +
                       $"{set.Policy.Adapters.Count} modules: {set.Policy.Parameters.ElementCount:N0} trainable policy parameters; " +
                       $"frozen base of {frozen:N0} parameters ({(_o.BaseWeightDtype == BaseWeightDtype.BFloat16 ? "Linear weights in bfloat16" : "float32")}) " +
                       "shared by the policy, the reference and the value network");
        return set;
    }

    /// <summary>The adapters' dropout seed of one micro-batch: a function of the run's seed and the position, so that a resumed run draws the same masks.</summary>
    private ulong LoraDropoutSeed(long step, int micro, int rank)
    {
        ulong x = _o.Seed ^ 0xD509_0A7EUL;
        x ^= DeterministicRandom.SplitMix64(ref x) + (ulong)step;
        x ^= DeterministicRandom.SplitMix64(ref x) + (ulong)micro;
        x ^= DeterministicRandom.SplitMix64(ref x) + (ulong)rank;
        return DeterministicRandom.SplitMix64(ref x);
    }
}
