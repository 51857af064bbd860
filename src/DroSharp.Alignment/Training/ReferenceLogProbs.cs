using System.Diagnostics;
using System.Security.Cryptography;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

/// <summary>
/// log π_ref(y|x) of every training and evaluation row, computed lazily: the first time a micro-batch
/// needs rows whose values are unknown, the reference model scores exactly those rows (in the
/// micro-batch's order, so at step 0 the policy's log-ratios are exactly 0), and the values are kept
/// for later epochs. <see cref="Save"/> (called with every checkpoint) writes what is known to
/// <c>RUN/reference_logprobs.safetensors</c>, bound by a key over the reference model's config and
/// weights, the tokenised rows and the scoring settings; a resumed run reads it back and recomputes
/// nothing it already has. <c>--precompute-ref</c> scores everything before the first step instead.
/// Values are kept as float32 (what the file stores), so a resumed run sees the same numbers.
/// </summary>
internal sealed class ReferenceLogProbs : IDisposable
{
    private readonly string _file;
    private readonly string _key;
    private readonly Func<IPolicyModel> _load;
    private readonly TrainingSet[] _sets;
    private readonly double[][] _values;
    private readonly int _batchSize;
    private readonly bool _lengthNormalize;
    private IPolicyModel? _model;
    private bool _dirty;

    /// <param name="modelHash">The reference model directory's <see cref="ModelDirectoryHash"/>.</param>
    /// <param name="load">Loads the reference model the first time it is needed (owned by this object).</param>
    public ReferenceLogProbs(string file, string modelHash, TrainingSet train, TrainingSet eval, Func<IPolicyModel> load,
        int batchSize, bool lengthNormalize, bool precomputed)
    {
        _file = file;
        _load = load;
        _sets = [train, eval];
        _values = [NaNs(train.Rows.Length), NaNs(eval.Rows.Length)];
        _batchSize = batchSize;
        _lengthNormalize = lengthNormalize;
        _key = Key(modelHash, train.Fingerprint(), eval.Fingerprint(), lengthNormalize, precomputed);
    }

    /// <summary>The reference model, loaded on first use.</summary>
    public IPolicyModel Model => _model ??= _load();

    /// <summary>Rows whose value is known, of all rows (train and eval).</summary>
    public (int Known, int Total) Progress => (_values.Sum(v => v.Count(double.IsFinite)), _values.Sum(v => v.Length));

    /// <summary>log π_ref of rows <paramref name="rows"/> of the training (or evaluation) set, scoring the unknown ones now.</summary>
    public double[] For(bool train, int[] rows)
    {
        var values = _values[train ? 0 : 1];
        var missing = rows.Where(i => !double.IsFinite(values[i])).Distinct().ToArray();
        if (missing.Length > 0) Score(train ? 0 : 1, missing, missing.Length);
        return rows.Select(i => values[i]).ToArray();
    }

    /// <summary>
    /// Scores every unknown row now, in row order, <c>max(batch, 16)</c> at a time; <paramref name="cancel"/> is
    /// checked between those batches (what is scored by then is kept, and cached by <see cref="Save"/>).
    /// </summary>
    public void ComputeAll(TextWriter log, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        int n = 0, chunk = Math.Max(_batchSize, 16);
        for (int s = 0; s < 2; s++)
        {
            var missing = Enumerable.Range(0, _values[s].Length).Where(i => !double.IsFinite(_values[s][i])).ToArray();
            // The same batches as one ScoreSequences call over all of them (it batches in order), so the values do not change.
            for (int start = 0; start < missing.Length; start += chunk)
            {
                cancel.ThrowIfCancellationRequested();
                Score(s, missing[start..Math.Min(missing.Length, start + chunk)], chunk);
            }
            n += missing.Length;
        }
        if (n > 0) log.WriteLine($"reference log-probs: {n} sequences in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private void Score(int split, int[] rows, int batchSize)
    {
        var set = _sets[split];
        var lp = Model.ScoreSequences(rows.Select(i => set.Rows[i].Prompt).ToArray(), rows.Select(i => set.Rows[i].Completion).ToArray(),
            batchSize, _lengthNormalize);
        for (int k = 0; k < rows.Length; k++) _values[split][rows[k]] = (float)lp[k];
        _dirty = true;
    }

    /// <summary>Reads the run's cache if its key matches; returns how many values it held.</summary>
    public int TryLoad()
    {
        if (!File.Exists(_file)) return 0;
        try
        {
            using var r = SafetensorsReader.Open(_file);
            if (r.Metadata?.GetValueOrDefault("key") != _key) return 0;
            using var t = r.ReadTensor("train");
            using var e = r.ReadTensor("eval");
            if (t.Length != _values[0].Length || e.Length != _values[1].Length) return 0;
            for (int i = 0; i < t.Length; i++) _values[0][i] = t[i];
            for (int i = 0; i < e.Length; i++) _values[1][i] = e[i];
            return _values.Sum(v => v.Count(double.IsFinite));
        }
        catch (CheckpointFormatException)
        {
            return 0;
        }
    }

    /// <summary>Writes the known values (NaN for the rest) when anything changed since the last save.</summary>
    public void Save()
    {
        if (!_dirty) return;
        using var t = Tensor.FromArray(_values[0].Select(x => (float)x).ToArray(), new Shape(_values[0].Length));
        using var e = Tensor.FromArray(_values[1].Select(x => (float)x).ToArray(), new Shape(_values[1].Length));
        new SafetensorsWriter().Add("train", t).Add("eval", e).AddMetadata("key", _key)
            .AddMetadata("length_normalize", _lengthNormalize ? "true" : "false").Write(_file);
        _dirty = false;
    }

    private static double[] NaNs(int n)
    {
        var a = new double[n];
        Array.Fill(a, double.NaN);
        return a;
    }

    private static string Key(string modelHash, string train, string eval, bool lengthNormalize, bool precomputed)
    {
        string text = $"reference={modelHash}\ntrain={train}\neval={eval}\nlength_normalize={lengthNormalize}\nbatching={(precomputed ? "precomputed" : "per-micro-batch")}\n";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    public void Dispose() => _model?.Dispose();
}
