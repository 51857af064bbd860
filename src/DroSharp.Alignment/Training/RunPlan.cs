namespace DroSharp.Alignment.Training;

/// <summary>
/// The schedule of a run once its length is known: warmup (<c>--warmup-steps</c> when given, else
/// ⌈<c>--warmup-ratio</c> × steps⌉, as the HF Trainer's <c>get_warmup_steps</c>) and the evaluation
/// interval (<c>--eval-every</c> when given, else about every 10 % of the run, ⌈steps / 10⌉, when there
/// is a held-out split; 0 = only at the end).
/// </summary>
public sealed record RunPlan(long TotalSteps, int WarmupSteps, int EvalEvery)
{
    public static RunPlan Resolve(TrainingOptions o, long totalSteps, bool hasHeldOut)
    {
        int warmup = o.WarmupSteps ?? (int)Math.Min(int.MaxValue, (long)Math.Ceiling(o.WarmupRatio * totalSteps));
        int evalEvery = !hasHeldOut ? 0 : o.EvalEvery ?? (int)Math.Min(int.MaxValue, Math.Max(1, (totalSteps + 9) / 10));
        return new RunPlan(totalSteps, warmup, evalEvery);
    }

    /// <summary>An evaluation inside the run (the last step is always evaluated when there is a held-out split).</summary>
    public bool IsEvaluationStep(long step) => EvalEvery > 0 && step % EvalEvery == 0 && step != TotalSteps;
}
