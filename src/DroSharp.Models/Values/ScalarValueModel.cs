using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Values;

/// <summary>
/// One learned scalar V for every prompt (the paper's "single value" ablation): the parameter
/// <c>value</c> [1], broadcast to [B]; its gradient is the sum of the per-row gradients. Starts at 0.
/// </summary>
public sealed class ScalarValueModel : IValueModel
{
    private readonly IModelConfig _config;

    public ScalarValueModel(IModelConfig config)
    {
        _config = config;
        Value = Parameters.Create("value", new Shape(1));
    }

    public ParameterSet Parameters { get; } = new();

    /// <summary>The scalar, [1].</summary>
    public Tensor Value { get; }

    public bool ReadsPolicyFeatures => false;

    /// <summary>[B] = V broadcast: zeros [B, 1] plus the bias V, so backward sums the rows into V.</summary>
    public Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput)
    {
        var zeros = Tape.NewZeros(new Shape(batch.Size, 1));
        return Ops.Reshape(Ops.AddBias(zeros, Value), new Shape(batch.Size));
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        CheckpointDirectory.SaveWeights(directory, Parameters.All, SafetensorsDtype.F32);
        _config.Save(Path.Combine(directory, CheckpointDirectory.ConfigFileName));
    }

    public void Dispose() => Parameters.Dispose();
}
