namespace DroSharp.Tensors.Optim;

/// <summary>What the learning rate does after the linear warmup (the CLI's <c>--schedule</c>).</summary>
public enum LearningRateScheduleKind
{
    /// <summary>Stays at the base rate (HF <c>constant_with_warmup</c>; <c>constant</c> when there is no warmup).</summary>
    Constant,

    /// <summary>Falls linearly to 0 at the last step (HF <c>linear</c>).</summary>
    Linear,

    /// <summary>Half a cosine down to 0 at the last step (HF <c>cosine</c>, num_cycles 0.5).</summary>
    Cosine,
}
