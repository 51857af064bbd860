namespace DroSharp.Tensors.Optim;

/// <summary>
/// Hugging Face's <c>get_scheduler</c> learning rates: linear warmup from 0 over W steps, then
/// constant, linear to 0 or cosine to 0 at T total steps. Convention (HF's LambdaLR): the rate
/// used by optimiser step s, counted from 0, is base·λ(s), so the very first step of a warmup
/// runs at rate 0 and the base rate is reached at step W. With w = s/max(1, W) and
/// progress = (s − W)/max(1, T − W):
/// <code>
/// s &lt; W:       λ = w
/// constant:    λ = 1
/// linear:      λ = max(0, (T − s)/max(1, T − W))
/// cosine:      λ = max(0, ½(1 + cos(π·progress)))
/// </code>
/// Past T HF's formulas are kept as they are: linear stays at 0, cosine rises again.
/// (The HF Trainer logs <c>learning_rate</c> after stepping the scheduler, i.e. the rate of step s + 1.)
/// </summary>
public sealed class LearningRateSchedule
{
    public LearningRateSchedule(LearningRateScheduleKind kind, double baseLearningRate, int warmupSteps, int totalSteps)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), $"unknown schedule {kind}");
        if (!double.IsFinite(baseLearningRate) || baseLearningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(baseLearningRate), $"learning rate {baseLearningRate} must be finite and ≥ 0");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"warmup steps {warmupSteps} must be ≥ 0");
        if (totalSteps < 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), $"total steps {totalSteps} must be ≥ 0");
        Kind = kind;
        BaseLearningRate = baseLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    public LearningRateScheduleKind Kind { get; }
    public double BaseLearningRate { get; }
    public int WarmupSteps { get; }
    public int TotalSteps { get; }

    /// <summary>Parses the CLI names <c>constant</c>, <c>linear</c>, <c>cosine</c> (case-insensitive).</summary>
    public static LearningRateScheduleKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "constant" => LearningRateScheduleKind.Constant,
        "linear" => LearningRateScheduleKind.Linear,
        "cosine" => LearningRateScheduleKind.Cosine,
        _ => throw new ArgumentException($"unknown learning-rate schedule '{name}' (expected constant, linear or cosine)", nameof(name)),
    };

    /// <summary>λ(s), the multiplier of the base rate at optimiser step <paramref name="step"/> (0-based).</summary>
    public double Factor(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} must be ≥ 0");
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        double decaySteps = Math.Max(1, (long)TotalSteps - WarmupSteps);
        return Kind switch
        {
            LearningRateScheduleKind.Constant => 1.0,
            LearningRateScheduleKind.Linear => Math.Max(0.0, (TotalSteps - step) / decaySteps),
            _ => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * ((step - WarmupSteps) / decaySteps)))),
        };
    }

    /// <summary>The learning rate of optimiser step <paramref name="step"/> (0-based): base·λ(step).</summary>
    public double LearningRate(long step) => BaseLearningRate * Factor(step);
}
