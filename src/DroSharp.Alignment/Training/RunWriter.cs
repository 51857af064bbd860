using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Tensors.Optim;

namespace DroSharp.Alignment.Training;

/// <summary>
/// What a run writes as it goes: the lines of <c>metrics.jsonl</c> (opened for appending, after a
/// resume has dropped the lines past its checkpoint), the checkpoints (rotated by <c>--save-total-limit</c>)
/// and <c>final/</c>. Under several processes only the process that writes files writes anything.
/// </summary>
internal sealed class RunWriter : IDisposable
{
    /// <summary>Files of the model directory that <c>final/</c> carries over unchanged (tokenizer, template).</summary>
    private static readonly string[] CarriedFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "chat_template.jinja", "generation_config.json"];

    private readonly TrainingSession _s;
    private readonly Optimizer _policyOpt;
    private readonly Optimizer? _valueOpt;
    private readonly RunHealth _health;
    private readonly StreamWriter? _metrics;

    public RunWriter(TrainingSession session, Optimizer policyOpt, Optimizer? valueOpt, RunHealth health)
    {
        (_s, _policyOpt, _valueOpt, _health) = (session, policyOpt, valueOpt, health);
        _metrics = session.WritesFiles ? new StreamWriter(session.Run.MetricsFile, append: true) : null;
    }

    /// <summary>One line of metrics.jsonl: the step and the values by name, non-finite ones as strings ("NaN", "Infinity").</summary>
    public void WriteMetrics(long step, IDictionary<string, double> values)
    {
        if (_metrics is null) return;
        var obj = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["step"] = step };
        foreach (var (k, v) in values) obj[k] = double.IsFinite(v) ? v : v.ToString();
        _metrics.WriteLine(JsonSerializer.Serialize(obj));
        _metrics.Flush();
    }

    /// <summary>RUN/checkpoint-STEP: everything needed to continue bit for bit; returns its directory (written or not).</summary>
    public string SaveCheckpoint(long step, EpochSampler sampler, long tokens, double elapsed, TrainingCheckpoint.LogWindow window)
    {
        string dir = _s.Run.CheckpointDirectory(step);
        if (!_s.WritesFiles) return dir;
        _s.Reference?.Save();
        TrainingCheckpoint.Save(dir, new TrainingCheckpoint.TrainerState(step, sampler.GetState(), tokens, elapsed, window, _s.Group.WorldSize),
            _s.Policy, _s.Value, _policyOpt, _valueOpt);
        if (_s.Options.SaveTotalLimit > 0)
            foreach (string victim in _health.RotationVictims(_s.Options.SaveTotalLimit).ToList()) Directory.Delete(victim, recursive: true);
        return dir;
    }

    /// <summary>RUN/final: the policy as an HF model directory (with the tokenizer), the value model in final/value.</summary>
    public void SaveFinal()
    {
        if (!_s.WritesFiles) return;
        string final = _s.Run.FinalDirectory;
        string tmp = final + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            _s.Policy.Save(tmp);
            foreach (var name in CarriedFiles)
            {
                string src = Path.Combine(_s.Options.Model, name), dst = Path.Combine(tmp, name);
                if (File.Exists(src) && !File.Exists(dst)) File.Copy(src, dst);
            }
            // The template the run rendered its conversations with wins over the model's, as in transformers' loading order.
            if (_s.Options.ChatTemplate is string template && File.Exists(template)) File.Copy(template, Path.Combine(tmp, "chat_template.jinja"), overwrite: true);
            _s.Value?.Save(Path.Combine(tmp, "value"));
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    public void Dispose() => _metrics?.Dispose();
}
