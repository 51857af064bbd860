namespace DroSharp.Alignment.Objectives;

/// <summary>How DRO-V's value V(x) is parameterised (the paper's §3.3/§4.4 ablations; the CLI's <c>--value</c>).</summary>
public enum DroValueMode
{
    /// <summary>
    /// Default: a separate value network, one value V_φ(xᵢ) per example ("double net, multiple values").
    /// </summary>
    PerExample,

    /// <summary>
    /// One scalar value for the whole batch ("single value"): the trainer passes the same scalar parameter
    /// as every Vᵢ, and the gradient of that scalar is the <b>sum</b> of the per-example gradients
    /// (<see cref="ObjectiveResult.ValueGradientSum"/>). Its best value is E_ρ[V^π(x)], which recovers π* only
    /// when V^{π*} does not depend on x (algorithms.md §2.3).
    /// </summary>
    Single,

    /// <summary>
    /// The value head sits on the policy's own encoder (parameter sharing, found harmful by the paper).
    /// This is a trainer concern: the objective's gradients are the same as <see cref="PerExample"/>; the
    /// trainer backpropagates dL/dV into the shared trunk as well.
    /// </summary>
    Shared,
}
