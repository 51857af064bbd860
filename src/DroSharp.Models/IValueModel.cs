using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// DRO's value V(x) of a prompt, one number per row: [B]. Implementations: a family's own backbone
/// with a head (<see cref="IModelFamily.CreateValueModel"/>), one learned scalar
/// (<see cref="Values.ScalarValueModel"/>), or a head on the policy's backbone
/// (<see cref="Values.SharedBackboneValueModel"/>).
/// </summary>
public interface IValueModel : IDisposable
{
    /// <summary>The value's own parameters (what its optimiser updates and checkpoints store).</summary>
    ParameterSet Parameters { get; }

    /// <summary>True when <see cref="Forward"/> reads the policy's prompt features (same tape, shared backbone).</summary>
    bool ReadsPolicyFeatures { get; }

    /// <summary>V(xᵢ) [B] on the current tape.</summary>
    Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput);

    /// <summary>The matrix-product FLOPs of <see cref="Forward"/> on <paramref name="batch"/> (0 for heads on the policy's features).</summary>
    MatmulFlops ForwardFlops(SequenceBatch batch) => default;

    /// <summary>Writes config.json and the value's weights to <paramref name="directory"/>.</summary>
    void Save(string directory);
}
