namespace DroSharp.Models.Values;

/// <summary>How DRO's value V(x) is parameterised (the DRO paper's ablations).</summary>
public enum ValueModelKind
{
    /// <summary>Its own backbone (a copy of the policy's at the start) with a head: one V(xᵢ) per prompt. The default.</summary>
    OwnBackbone,

    /// <summary>One learned scalar for every prompt.</summary>
    Scalar,

    /// <summary>A head on the policy's own backbone (parameter sharing, found harmful by the paper).</summary>
    SharedBackbone,
}
