using DroSharp.Tensors;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// Named tensors on disk: one safetensors file (<see cref="SafetensorsReader"/>) or a model
/// directory, single-file or sharded (<see cref="CheckpointDirectory"/>).
/// </summary>
public interface ITensorSource
{
    /// <summary>Where the tensors come from, for messages.</summary>
    string Location { get; }

    /// <summary>Every tensor name, in file (and shard) order.</summary>
    IReadOnlyList<string> TensorNames { get; }

    bool TryGetInfo(string name, out SafetensorsTensorInfo info);

    /// <summary>
    /// Reads an F32, F16, BF16 or F64 tensor into <paramref name="destination"/>, whose shape must
    /// equal the stored one.
    /// </summary>
    void ReadInto(string name, Tensor destination);
}
