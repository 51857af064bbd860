using DroSharp.Models;
using DroSharp.Models.Generation;

namespace DroSharp.Alignment.Training;

/// <summary>
/// π_ref read from its model directory when first needed and freed by <see cref="Release"/>. The
/// monitor uses it for a moment at each evaluation, when the training step's activations are gone,
/// so the extra copy of the weights stays under the training peak (weights, gradients and the
/// optimiser's two moments of the policy).
/// </summary>
public sealed class DirectoryReferencePolicy : IReferencePolicy
{
    private readonly Func<IPolicyModel> _load;
    private IPolicyModel? _model;

    public DirectoryReferencePolicy(string directory) : this(() => ModelFamilies.LoadPolicy(directory)) { }

    /// <param name="load">Loads π_ref (the model is owned by this object).</param>
    public DirectoryReferencePolicy(Func<IPolicyModel> load) => _load = load ?? throw new ArgumentNullException(nameof(load));

    private IPolicyModel Model => _model ??= _load();

    public double[] Score(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int batchSize, bool lengthNormalize) =>
        Model.ScoreSequences(prompts, completions, batchSize, lengthNormalize);

    public List<int[]> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options) => new Generator(Model).Generate(prompts, options);

    public void Release()
    {
        _model?.Dispose();
        _model = null;
    }

    public void Dispose() => Release();
}
