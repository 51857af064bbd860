using DroSharp.Models;
using DroSharp.Models.Lora;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

// LoRA: one frozen base for the policy (base + "policy" adapter), the reference (adapters off) and the
// value network (base + "value" adapter + head); only adapters and heads train and are checkpointed
// (loaded by TrainingSession.LoadModels).
public sealed partial class AlignmentTrainer
{
    /// <summary>The models of the run, once <see cref="Train"/> has loaded them (tests inspect what is shared).</summary>
    internal (IPolicyModel Policy, IValueModel? Value, IPolicyModel? Reference, LoraModelSet? Lora) Models =>
        (_session.Policy, _session.Value, _session.Reference?.Model, _session.Lora);

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
