using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Lora;
using DroSharp.Tensors;
using DroSharp.Tensors.Optim;

namespace DroSharp.Alignment.Training;

/// <summary>
/// One resumable checkpoint, <c>checkpoints/step-N/</c>: <c>policy/</c> (an HF model directory, or
/// with LoRA the policy's PEFT adapter only), <c>value/</c> (the value network's trainable
/// parameters), <c>optimizer.policy.safetensors</c> and <c>optimizer.value.safetensors</c> (the
/// optimiser states, counters in the metadata), and
/// <c>trainer_state.json</c> (step, data position). It is written to a temporary directory and
/// renamed into place, so a checkpoint directory is either complete or absent.
/// </summary>
public static class TrainingCheckpoint
{
    public const string StateFileName = "trainer_state.json";
    private const string PolicyDir = "policy";
    private const string ValueDir = "value";
    private const string PolicyOptimizerFile = "optimizer.policy.safetensors";
    private const string ValueOptimizerFile = "optimizer.value.safetensors";

    /// <summary>
    /// What the trainer needs besides weights and optimiser states to continue exactly.
    /// <paramref name="Processes"/>: the data-parallel processes that wrote it (1 when absent).
    /// </summary>
    public sealed record TrainerState(long Step, SamplerState Sampler, long TokensSeen, double ElapsedSeconds, LogWindow Window, int Processes = 1);

    /// <summary>The metrics accumulated since the last logging step, so a resumed run logs the same averages.</summary>
    public sealed record LogWindow(SortedDictionary<string, double[]> Metrics, double LossSum, int Steps, long Tokens);

    public static void Save(string directory, TrainerState state, IPolicyModel policy, IValueModel? value,
        Optimizer policyOptimizer, Optimizer? valueOptimizer)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(directory))!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, Path.GetFileName(directory) + ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            policy.Save(Path.Combine(tmp, PolicyDir));
            value?.Save(Path.Combine(tmp, ValueDir));
            SaveOptimizer(Path.Combine(tmp, PolicyOptimizerFile), policyOptimizer);
            if (valueOptimizer is not null) SaveOptimizer(Path.Combine(tmp, ValueOptimizerFile), valueOptimizer);
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["step"] = state.Step,
                ["tokens_seen"] = state.TokensSeen,
                ["elapsed_seconds"] = state.ElapsedSeconds,
                ["sampler"] = JsonDocument.Parse(state.Sampler.ToJson()).RootElement,
                ["log_window"] = state.Window,
                ["processes"] = state.Processes,
            }, new JsonSerializerOptions { WriteIndented = true });
            RunDirectory.WriteTextAtomic(Path.Combine(tmp, StateFileName), json);
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            Directory.Move(tmp, directory);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    public static TrainerState Load(string directory, ParameterSet policy, ParameterSet? value, Optimizer policyOptimizer, Optimizer? valueOptimizer)
    {
        LoadWeights(Path.Combine(directory, PolicyDir), policy);
        if (value is not null) LoadWeights(Path.Combine(directory, ValueDir), value);
        LoadOptimizer(Path.Combine(directory, PolicyOptimizerFile), policyOptimizer);
        if (valueOptimizer is not null) LoadOptimizer(Path.Combine(directory, ValueOptimizerFile), valueOptimizer);
        string statePath = Path.Combine(directory, StateFileName);
        using var doc = JsonDocument.Parse(File.ReadAllText(statePath));
        var root = doc.RootElement;
        try
        {
            return new TrainerState(root.GetProperty("step").GetInt64(), SamplerState.FromJson(root.GetProperty("sampler").GetRawText()),
                root.GetProperty("tokens_seen").GetInt64(), root.GetProperty("elapsed_seconds").GetDouble(),
                JsonSerializer.Deserialize<LogWindow>(root.GetProperty("log_window").GetRawText())!,
                root.TryGetProperty("processes", out var processes) ? processes.GetInt32() : 1);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or JsonException)
        {
            throw new TrainingException($"{statePath}: not a valid trainer state ({e.Message})", e);
        }
    }

    // An HF model directory (full fine-tuning) or a PEFT adapter directory (LoRA: the adapter, and a value head).
    private static void LoadWeights(string directory, ParameterSet parameters)
    {
        if (PeftAdapterFiles.IsAdapterDirectory(directory)) PeftAdapterFiles.LoadInto(directory, parameters);
        else StateDictLoader.Load(directory, parameters.All);
    }

    /// <summary>
    /// Loads the newest of <paramref name="checkpoints"/> (by step) that reads back whole; a newer one that does not
    /// (truncated weights, damaged state) is skipped with a warning on <paramref name="log"/>. Throws
    /// <see cref="TrainingException"/> when none is readable.
    /// </summary>
    public static (long Step, string Directory, TrainerState State) LoadNewestReadable(IReadOnlyList<(long Step, string Directory)> checkpoints,
        ParameterSet policy, ParameterSet? value, Optimizer policyOptimizer, Optimizer? valueOptimizer, TextWriter log)
    {
        var reasons = new List<string>();
        for (int i = checkpoints.Count - 1; i >= 0; i--)
        {
            var (step, dir) = checkpoints[i];
            try
            {
                return (step, dir, Load(dir, policy, value, policyOptimizer, valueOptimizer));
            }
            catch (Exception e) when (e is CheckpointFormatException or TrainingException or JsonException or IOException or FormatException
                                          or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
            {
                // A failed load may have overwritten some parameters: the older checkpoint loaded next overwrites them all.
                reasons.Add($"{dir}: {e.Message}");
                if (i > 0) log.WriteLine($"warning: checkpoint {dir} cannot be read ({e.Message}); falling back to {checkpoints[i - 1].Directory}");
            }
        }
        throw new TrainingException($"no checkpoint of the run can be read: {string.Join("; ", reasons)}");
    }

    /// <summary>Loads only the networks' weights of a checkpoint (the best step's, into the networks that go to final/).</summary>
    public static void LoadWeights(string directory, ParameterSet policy, ParameterSet? value)
    {
        LoadWeights(Path.Combine(directory, PolicyDir), policy);
        if (value is not null) LoadWeights(Path.Combine(directory, ValueDir), value);
    }

    private static void SaveOptimizer(string path, Optimizer optimizer)
    {
        var state = optimizer.ExportState();
        var writer = new SafetensorsWriter();
        foreach (var (name, tensor) in state.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal)) writer.Add(name, tensor);
        writer.AddMetadata("optimizer", state.Kind);
        writer.AddMetadata("counters", JsonSerializer.Serialize(state.Counters));
        writer.Write(path);
    }

    private static void LoadOptimizer(string path, Optimizer optimizer)
    {
        using var reader = SafetensorsReader.Open(path);
        var meta = reader.Metadata ?? throw new TrainingException($"{path}: no optimizer metadata");
        if (!meta.TryGetValue("optimizer", out var kind) || !meta.TryGetValue("counters", out var counters))
            throw new TrainingException($"{path}: optimizer metadata lacks 'optimizer' or 'counters'");
        var state = new OptimizerState(kind);
        foreach (var (k, v) in JsonSerializer.Deserialize<Dictionary<string, long>>(counters)!) state.Counters[k] = v;
        var loaded = new List<Tensor>();
        try
        {
            foreach (var name in reader.TensorNames)
            {
                var t = reader.ReadTensor(name);
                loaded.Add(t);
                state.Tensors[name] = t;
            }
            optimizer.ImportState(state);
        }
        finally
        {
            foreach (var t in loaded) t.Dispose();
        }
    }
}
