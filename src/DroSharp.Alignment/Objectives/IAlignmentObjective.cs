namespace DroSharp.Alignment.Objectives;

/// <summary>
/// An alignment loss on one micro-batch of per-example quantities (plain arrays, no model): the trainer
/// computes the log-probs and values with its networks, calls <see cref="Compute"/>, and backpropagates
/// the returned gradients. The same code drives a tabular softmax policy in the tests.
/// <para>
/// Accumulation convention: <see cref="ObjectiveResult.Loss"/> and every gradient are <b>means over the
/// micro-batch</b>. With k accumulation steps the trainer scales each micro-batch's gradients by 1/k before
/// adding them, so equal-size micro-batches give the mean over the effective batch (as transformers'
/// Trainer does). KTO's KL reference point and batch-mean labels, and DRO-P's variance, stay
/// per micro-batch, as in TRL and the paper.
/// </para>
/// </summary>
public interface IAlignmentObjective
{
    /// <summary>The <c>--algo</c> name (<c>dro-v</c>, <c>dro-p</c>, <c>kto</c>, <c>sft</c>, <c>rpo</c>, <c>dpo</c>).</summary>
    string Name { get; }

    /// <summary>What the trainer must prepare.</summary>
    ObjectiveRequirements Requirements { get; }

    /// <summary>
    /// Warnings about the training data's label balance (desirable vs undesirable rows), shown once
    /// before training; none by default.
    /// </summary>
    IReadOnlyList<string> LabelBalanceWarnings(int desirable, int undesirable) => [];

    /// <summary>The loss, its gradients and metrics for one micro-batch. Throws <see cref="ArgumentException"/> on bad input.</summary>
    ObjectiveResult Compute(ObjectiveBatch batch);
}
