using System.Text.Json.Nodes;
using DroSharp.Alignment.Training;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// The training options of an arm when the experiment runs <c>dro train</c> as a user would
/// (<see cref="ExperimentConfig.TrainerDefaults"/>): <see cref="TrainingOptions"/>' own defaults, with a
/// tenth of the feedback's prompts held out (<c>--eval-fraction 0.1</c>, as the README's quick start) so
/// the held-out monitor, the warnings and the best-checkpoint selection run; then the experiment's
/// <see cref="ExperimentConfig.TrainOptions"/> (run.json keys, e.g. <c>{"batch_size": 8}</c>); then the arm's
/// own settings: its τ or β (the preset's unless given: <c>dro-v</c> is τ = 1, so <c>dro-v:tau=0.3</c> is
/// exactly <c>dro train</c>'s defaults), the value mode and KTO labels, and <c>:lr=</c>. With curves on, the run evaluates and checkpoints every
/// <see cref="ExperimentConfig.CheckpointEvery"/> steps (which changes no weight: evaluation draws from its own
/// random stream), so the true reward of every evaluated step is known.
/// </summary>
public static class TrainerDefaultsArm
{
    public static TrainingOptions Options(ExperimentConfig config, AlgorithmSpec spec, string model, string data, string runDirectory, ulong seed)
    {
        var json = new JsonObject
        {
            ["algo"] = spec.Objective,
            ["model"] = model,
            ["ref"] = model,
            ["data"] = data,
            ["out"] = runDirectory,
            ["seed"] = seed,
            ["eval_fraction"] = 0.1,
            ["save_total_limit"] = 0,
        };
        if (config.CheckpointEvery > 0)
        {
            json["eval_every"] = config.CheckpointEvery;
            json["save_every"] = config.CheckpointEvery;
        }
        if (!string.IsNullOrWhiteSpace(config.TrainOptions))
        {
            JsonObject extra;
            try { extra = JsonNode.Parse(config.TrainOptions)?.AsObject() ?? new JsonObject(); }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                throw new ArgumentException($"train options must be a JSON object of run.json keys, not '{config.TrainOptions}' ({e.Message})");
            }
            foreach (var (k, v) in extra) json[k] = v?.DeepClone();
        }
        if (spec.UsesTau) json["tau"] = spec.Tau;
        if (spec.UsesBeta) json["beta"] = spec.Beta;
        if (spec.IsDroV) json["value"] = spec.Value;
        if (spec.IsKto) json["kto_label"] = spec.KtoLabel;
        if (spec.LearningRate is double lr) json["lr"] = lr;
        string profile = json["profile"]?.GetValue<string>() ?? TrainingProfiles.Default;
        TrainingProfiles.Apply(json, profile);
        try
        {
            var options = TrainingOptions.FromJson(json.ToJsonString(), "the arm's training options");
            options.Validate();
            return options;
        }
        catch (TrainingException e)
        {
            throw new ArgumentException($"algorithm '{spec.Name}': {e.Message}", e);
        }
    }
}
