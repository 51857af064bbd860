using DroSharp.Alignment.Data;
using DroSharp.Tensors.Optim;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The state a resumed run continues from: the newest checkpoint's weights and optimiser moments
/// (loaded into the session's models and the optimisers), its step, tokens, time, sampler position and
/// log window. Several processes all load the checkpoint rank 0 chose, and must agree on it.
/// </summary>
internal sealed class TrainingResume
{
    private TrainingResume(long step, long tokensSeen, double elapsedSeconds, EpochSampler sampler, MetricsWindow window)
    {
        Step = step;
        TokensSeen = tokensSeen;
        ElapsedSeconds = elapsedSeconds;
        Sampler = sampler;
        Window = window;
    }

    public long Step { get; }
    public long TokensSeen { get; }
    public double ElapsedSeconds { get; }
    public EpochSampler Sampler { get; }
    public MetricsWindow Window { get; }

    public static string NoCheckpoint(RunDirectory run) =>
        $"{run.Path} has no checkpoint yet (the run stopped before its first save), so there is nothing to resume: " +
        "run the original command again, without --resume (it reuses the cached reference log-probs)";

    /// <summary>
    /// Loads the checkpoint to continue from, drops the metrics lines after its step, and returns where
    /// the run stands; <paramref name="units"/> and <paramref name="totalSteps"/> are this run's.
    /// </summary>
    public static TrainingResume Load(TrainingSession s, Optimizer policyOpt, Optimizer? valueOpt, int accumulation,
                                      string? referenceHash, int units, long totalSteps)
    {
        var (o, run, group) = (s.Options, s.Run, s.Group);
        long cpStep;
        string cpDir;
        TrainingCheckpoint.TrainerState st;
        if (group.WorldSize == 1)
        {
            // One process: the newest checkpoint that reads back whole (a damaged newer one is skipped with a warning).
            var cps = run.Checkpoints();
            if (cps.Count == 0) throw new TrainingException(NoCheckpoint(run));
            (cpStep, cpDir, st) = TrainingCheckpoint.LoadNewestReadable(cps, s.Policy.Parameters, s.Value?.Parameters, policyOpt, valueOpt, s.Log);
        }
        else
        {
            (cpStep, cpDir) = CheckpointToResume(s);
            st = TrainingCheckpoint.Load(cpDir, s.Policy.Parameters, s.Value?.Parameters, policyOpt, valueOpt);
        }
        if (st.Processes != group.WorldSize && o.GlobalBatchSize is null)
            throw new TrainingException($"{cpDir} was written by a run on {st.Processes} process(es) with {accumulation} micro-batch(es) of {o.BatchSize} each per step; " +
                                        $"resume it on {st.Processes} (mpirun -np {st.Processes}), or start runs with --global-batch-size to be free to change the number of processes");
        s.RequireRanksAgree("checkpoint", referenceHash, cpStep);
        EpochSampler sampler;
        try { sampler = EpochSampler.Restore(st.Sampler, units, o.BatchSize); }
        catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new TrainingException($"{cpDir}: {e.Message}", e); }
        var window = MetricsWindow.From(st.Window);
        if (s.WritesFiles) run.TruncateMetricsAfter(st.Step, evaluationAtStep: st.Step == totalSteps); // the final evaluation runs again
        s.Log.WriteLine($"resumed from {cpDir} at step {cpStep} of {totalSteps}");
        return new TrainingResume(st.Step, st.TokensSeen, st.ElapsedSeconds, sampler, window);
    }

    /// <summary>
    /// The newest complete checkpoint, as rank 0 sees it: every rank loads that one (the run directory
    /// must be on a filesystem every process can read).
    /// </summary>
    private static (long Step, string Directory) CheckpointToResume(TrainingSession s)
    {
        var (run, group) = (s.Run, s.Group);
        Span<double> step = [-1];
        if (s.WritesFiles)
        {
            var cps = run.Checkpoints();
            if (cps.Count == 0) throw new TrainingException(NoCheckpoint(run));
            step[0] = cps[^1].Step;
        }
        group.BroadcastFromRankZero(step);
        string dir = run.CheckpointDirectory((long)step[0]);
        if (!File.Exists(Path.Combine(dir, TrainingCheckpoint.StateFileName)))
            throw new TrainingException($"rank {group.Rank} of {group.WorldSize} cannot read {dir}, the checkpoint rank 0 resumes from: " +
                                        "every process reads the run directory, so --out must be on a filesystem all machines share (or copied to the same path on each)");
        return ((long)step[0], dir);
    }
}
