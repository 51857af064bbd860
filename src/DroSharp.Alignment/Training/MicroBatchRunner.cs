using DroSharp.Alignment.Objectives;
using DroSharp.Models;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;
using PreferencePair = DroSharp.Alignment.Objectives.PreferencePair;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The loss, metrics and token count of one micro-batch (loss NaN when a network diverged), its
/// matrix-product FLOPs, and each row's log π − log π_ref (null without a reference; the held-out
/// implicit-reward accuracy ranks rows by it).
/// </summary>
internal readonly record struct MicroBatchResult(double Loss, ObjectiveMetrics Metrics, long Tokens, double MatmulFlops = 0, double[]? LogRatios = null, double RecomputedFlops = 0);

/// <summary>
/// One micro-batch through the networks: batch → policy forward (log π(y|x) summed over the
/// completion) and value forward on one tape → the objective's loss and its gradients with respect to
/// log π and V → one backward from both. The objective's declaration says what to prepare (reference
/// log-probs, values, mismatched pairs, partition values); no algorithm is named here.
/// </summary>
internal sealed class MicroBatchRunner
{
    private readonly IPolicyModel _policy;
    private readonly IValueModel? _value;
    private readonly IAlignmentObjective _objective;
    private readonly ObjectiveRequirements _needs;
    private readonly ReferenceLogProbs? _reference;
    private readonly bool _lengthNormalize;

    public MicroBatchRunner(IPolicyModel policy, IValueModel? value, IAlignmentObjective objective, ReferenceLogProbs? reference, bool lengthNormalize)
    {
        _policy = policy;
        _value = value;
        _objective = objective;
        _needs = objective.Requirements;
        _reference = reference;
        _lengthNormalize = lengthNormalize;
    }

    /// <summary>RPO's per-prompt soft values of the training and evaluation rows.</summary>
    public double[]? TrainPartition { get; set; }
    public double[]? EvalPartition { get; set; }

    /// <summary>
    /// Forward, objective and (when <paramref name="train"/>) backward of the units of one micro-batch;
    /// gradients are scaled by <paramref name="gradientScale"/> (1 / micro-batches per step) and added
    /// to the parameters' gradients. The tape is reset afterwards.
    /// </summary>
    public MicroBatchResult Run(TrainingSet set, bool train, int[] units, double gradientScale, Tape tape)
    {
        var (rowIdx, pairs) = set.Expand(units);
        var rows = rowIdx.Select(i => set.Rows[i]).ToArray();
        using var batch = _policy.CreateBatch(rows.Select(r => r.Prompt).ToArray(), rows.Select(r => r.Completion).ToArray());
        long tokens = batch.TokenCount;
        var flops = _policy.ForwardFlops(batch) + (_value?.ForwardFlops(batch) ?? default);
        double stepFlops = train ? flops.ForwardAndBackward : flops.Forward;
        double recomputed = train && tape.GradientCheckpointing ? flops.InBlocks : 0; // the blocks' forward, run again in backward
        // Reference log-probs first: rows seen for the first time are scored before the policy's
        // activations exist, so the two passes never hold memory at once.
        var refLogp = _reference?.For(train, rowIdx);
        bool recording = tape.Recording;
        tape.Recording = train;
        try
        {
            Tensor logp;
            Tensor? values = null;
            using (tape.Activate())
            {
                var output = _policy.Forward(batch, withPromptFeatures: _value?.ReadsPolicyFeatures ?? false);
                logp = PolicyScoring.SequenceLogProbs(output, batch, _lengthNormalize);
                values = _value?.Forward(batch, output);
            }
            var ob = BuildObjectiveBatch(train, rows, rowIdx, pairs, logp, values, refLogp, batch);
            // The networks diverged: report a non-finite loss; the step loop stops before any update.
            if (!AllFinite(ob.PolicyLogProbs) || (ob.Values is { } vs && !AllFinite(vs))) return new MicroBatchResult(double.NaN, new ObjectiveMetrics(), tokens, stepFlops, RecomputedFlops: recomputed);
            var result = _objective.Compute(ob);
            if (train) Backward(tape, logp, result.PolicyLogProbGradient, values, result.ValueGradient, gradientScale);
            double[]? ratios = null;
            if (ob.ReferenceLogProbs is { } lref)
            {
                ratios = new double[lref.Length];
                for (int i = 0; i < ratios.Length; i++) ratios[i] = ob.PolicyLogProbs[i] - lref[i];
                // Every objective with a reference reports logratio/mean, the drift signal of the run's warnings.
                if (!result.Metrics.Contains("logratio/mean")) result.Metrics.AddPerExample("logratio/mean", ratios, null);
            }
            return new MicroBatchResult(result.Loss, result.Metrics, tokens, stepFlops, ratios, recomputed);
        }
        finally
        {
            tape.Recording = recording;
            tape.Reset();
        }
    }

    // One propagation from log π [B] and V [B] with the objective's gradients: a shared backbone
    // receives both before its own backward runs.
    private static void Backward(Tape tape, Tensor logp, double[] dLogp, Tensor? values, double[]? dValues, double scale)
    {
        int b = dLogp.Length;
        using var gLogp = Tensor.Uninitialized(new Shape(b));
        for (int i = 0; i < b; i++) gLogp[i] = (float)(dLogp[i] * scale);
        if (values is null || dValues is null)
        {
            tape.Backward([(logp, gLogp)]);
            return;
        }
        using var gValues = Tensor.Uninitialized(new Shape(b));
        for (int i = 0; i < b; i++) gValues[i] = (float)(dValues[i] * scale);
        tape.Backward([(logp, gLogp), (values, gValues)]);
    }

    private ObjectiveBatch BuildObjectiveBatch(bool train, TrainingRow[] rows, int[] rowIdx, PreferencePair[]? pairs,
        Tensor logp, Tensor? values, double[]? refLogp, SequenceBatch batch)
    {
        int b = rows.Length;
        var lp = new double[b];
        for (int i = 0; i < b; i++) lp[i] = logp[i];
        double[]? vals = null;
        if (values is not null) { vals = new double[b]; for (int i = 0; i < b; i++) vals[i] = values[i]; }
        double[]? misPolicy = null, misRef = null;
        if (_needs.NeedsMismatchedLogProbs)
        {
            // TRL's KL pairs: prompt i with the completion of row MismatchedCompletionIndex(i) of the micro-batch; no gradient.
            var prompts = new int[b][];
            var completions = new int[b][];
            for (int i = 0; i < b; i++)
            {
                prompts[i] = rows[i].Prompt;
                completions[i] = rows[KtoObjective.MismatchedCompletionIndex(i, b)].Completion;
            }
            misPolicy = _policy.ScoreSequences(prompts, completions, b, _lengthNormalize);
            misRef = _reference!.Model.ScoreSequences(prompts, completions, b, _lengthNormalize);
        }
        var partition = train ? TrainPartition : EvalPartition;
        return new ObjectiveBatch
        {
            PolicyLogProbs = lp,
            ReferenceLogProbs = refLogp,
            Values = vals,
            Rewards = rows.Select(r => r.Reward).ToArray(),
            Labels = rows.All(r => r.Label is not null) ? rows.Select(r => r.Label!.Value).ToArray() : null,
            MismatchedPolicyLogProbs = misPolicy,
            MismatchedReferenceLogProbs = misRef,
            PartitionValues = partition is null ? null : rowIdx.Select(i => partition[i]).ToArray(),
            TokenCounts = batch.CompletionLengths.ToArray(),
            Pairs = pairs,
        };
    }

    private static bool AllFinite(double[] xs)
    {
        foreach (double x in xs) if (!double.IsFinite(x)) return false;
        return true;
    }
}
