using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// Hugging Face model directories: <c>config.json</c> + <c>model.safetensors</c> (or a sharded index).
/// The policy is a <c>T5ForConditionalGeneration</c> directory; the value model is saved the same way
/// with the parameters <c>shared.weight</c>, <c>encoder.*</c>, <c>value_head.*</c>.
/// </summary>
public static class T5ModelFiles
{
    public static T5Config LoadConfig(string directory) => T5Config.Load(ModelFamilies.ConfigPath(directory));

    public static T5ForConditionalGeneration LoadPolicy(string directory) => LoadPolicy(directory, LoadConfig(directory));

    public static T5ForConditionalGeneration LoadPolicy(string directory, T5Config config) =>
        LoadInto(directory, new T5ForConditionalGeneration(config), m => m.Parameters);

    public static T5ValueModel LoadValue(string directory) =>
        LoadInto(directory, new T5ValueModel(LoadConfig(directory)), m => m.Parameters);

    /// <summary>Fills the model's parameters from the directory's weights; disposes the model on failure.</summary>
    private static TModel LoadInto<TModel>(string directory, TModel model, Func<TModel, ParameterSet> parameters) where TModel : IDisposable
    {
        try
        {
            StateDictLoader.Load(directory, parameters(model).All);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>Writes config.json and model.safetensors (each atomically); other files in the directory are left alone.</summary>
    public static void Save(T5Config config, ParameterSet parameters, string directory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        CheckpointDirectory.SaveWeights(directory, parameters.All, SafetensorsDtype.F32, metadata);
        config.Save(Path.Combine(directory, CheckpointDirectory.ConfigFileName));
    }

    public static void SavePolicy(T5ForConditionalGeneration model, string directory) => Save(model.Config, model.Parameters, directory);

    public static void SaveValue(T5ValueModel model, string directory) => Save(model.Config, model.Parameters, directory);
}
