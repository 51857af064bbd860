using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Models.Values;

/// <summary>
/// A value head on the policy's own backbone (the paper's parameter-sharing ablation):
/// V(x) = <c>value_head</c>(prompt features of the policy's forward) with
/// <c>value_head.weight</c> [1, hidden] and <c>value_head.bias</c> [1]. The head reads the features on
/// the policy's tape, so the value gradient flows into the shared backbone as well.
/// </summary>
public sealed class SharedBackboneValueModel : IValueModel
{
    private readonly IModelConfig _config;

    /// <param name="headStd">Standard deviation of the head's initial weights (the family's rule); the bias starts at 0.</param>
    public SharedBackboneValueModel(IModelConfig config, DeterministicRandom rng, double headStd)
    {
        _config = config;
        HeadWeight = Parameters.Create("value_head.weight", new Shape(1, config.HiddenSize));
        HeadBias = Parameters.Create("value_head.bias", new Shape(1));
        for (int i = 0; i < HeadWeight.Length; i++) HeadWeight[i] = (float)(rng.NextGaussian() * headStd);
    }

    public ParameterSet Parameters { get; } = new();

    public Tensor HeadWeight { get; }

    public Tensor HeadBias { get; }

    public bool ReadsPolicyFeatures => true;

    public Tensor Forward(SequenceBatch batch, PolicyOutput policyOutput)
    {
        var features = policyOutput.PromptFeatures
            ?? throw new InvalidOperationException("the shared value head needs the policy's prompt features: call Forward(batch, withPromptFeatures: true)");
        var v = Ops.AddBias(Ops.Linear(features, HeadWeight), HeadBias); // [B, 1]
        return Ops.Reshape(v, new Shape(batch.Size));
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        CheckpointDirectory.SaveWeights(directory, Parameters.All, SafetensorsDtype.F32);
        _config.Save(Path.Combine(directory, CheckpointDirectory.ConfigFileName));
    }

    public void Dispose() => Parameters.Dispose();
}
