using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.T5;

/// <summary>
/// Hugging Face model directories: <c>config.json</c> + <c>model.safetensors</c> (or a sharded index).
/// The policy is a <c>T5ForConditionalGeneration</c> directory; the value model is saved the same way
/// with the parameters <c>shared.weight</c>, <c>encoder.*</c>, <c>value_head.*</c>.
/// </summary>
public static class T5ModelFiles
{
    public static T5Config LoadConfig(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"model directory {directory} does not exist");
        string path = Path.Combine(directory, CheckpointDirectory.ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no config.json: not a Hugging Face model directory", path);
        return T5Config.Load(path);
    }

    public static T5ForConditionalGeneration LoadPolicy(string directory) =>
        LoadInto(directory, config => new T5ForConditionalGeneration(config), m => m.Parameters);

    public static T5ValueModel LoadValue(string directory) =>
        LoadInto(directory, config => new T5ValueModel(config), m => m.Parameters);

    /// <summary>Builds the model from the directory's config.json, then fills its parameters from the weights.</summary>
    private static TModel LoadInto<TModel>(string directory, Func<T5Config, TModel> create, Func<TModel, ParameterSet> parameters) where TModel : IDisposable
    {
        var model = create(LoadConfig(directory));
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
