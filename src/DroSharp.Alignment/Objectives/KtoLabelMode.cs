namespace DroSharp.Alignment.Objectives;

/// <summary>Where KTO's desirable/undesirable split comes from.</summary>
public enum KtoLabelMode
{
    /// <summary>TRL: the data's boolean <c>label</c> column (<see cref="ObjectiveInputs.Labels"/>).</summary>
    Labels,

    /// <summary>
    /// The DRO paper's KTO baseline (S1 §4.1): an example is desirable iff its reward is strictly greater
    /// than the mean reward of its micro-batch. The paper used λ_D = λ_U = 1 with this mode.
    /// </summary>
    BatchMeanReward,
}
