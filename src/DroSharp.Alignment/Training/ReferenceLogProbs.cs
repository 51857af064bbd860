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
    private readonly bool _keepModel;
    private IPolicyModel? _model;
    private bool _dirty;
    // (split, row) of the values this process scored since the last Share, in scoring order.
    private readonly List<(int Split, int Row)> _fresh = new();

    /// <param name="modelHash">The reference model directory's <see cref="ModelDirectoryHash"/>.</param>
    /// <param name="load">Loads the reference model the first time it is needed (owned by this object).</param>
    /// <param name="keepModel">Keep the reference model loaded once every value is known (KTO scores mismatched pairs with it every step).</param>
    public ReferenceLogProbs(string file, string modelHash, TrainingSet train, TrainingSet eval, Func<IPolicyModel> load,
        int batchSize, bool lengthNormalize, bool precomputed, bool keepModel)
    {
        _keepModel = keepModel;
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
    /// Scores every unknown row now, in row order, <c>max(batch, 16)</c> at a time. With several
    /// ranks, chunk c of those batches is scored by rank c mod N and the values are then shared, so
    /// every rank ends with the same values as one process would (the batches are the same).
    /// <paramref name="cancel"/> is checked between those batches (what is scored by then is kept, and
    /// cached by <see cref="Save"/>).
    /// </summary>
    public void ComputeAll(TextWriter log, DataParallelGroup group, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        int n = 0, chunk = Math.Max(_batchSize, 16);
        for (int s = 0; s < 2; s++)
        {
            var missing = Enumerable.Range(0, _values[s].Length).Where(i => !double.IsFinite(_values[s][i])).ToArray();
            for (int c = 0, start = 0; start < missing.Length; c++, start += chunk)
            {
                cancel.ThrowIfCancellationRequested();
                if (c % group.WorldSize == group.Rank) Score(s, missing[start..Math.Min(missing.Length, start + chunk)], chunk);
            }
            n += missing.Length;
        }
        Share(group);
        if (n > 0) log.WriteLine($"reference log-probs: {n} sequences in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Collective: hands the values each rank scored since the last call to every rank, so that all
    /// ranks hold the same table (and rank 0's cache file holds every rank's rows). A row scored by
    /// several ranks in the same step (possible only when a step spans two epochs) takes the lowest
    /// rank's value on every rank. Without peers it only forgets what was fresh.
    /// </summary>
    public void Share(DataParallelGroup group)
    {
        if (group.WorldSize == 1) { _fresh.Clear(); return; }
        var mine = new double[3 * _fresh.Count];
        for (int k = 0; k < _fresh.Count; k++)
        {
            var (s, i) = _fresh[k];
            (mine[3 * k], mine[3 * k + 1], mine[3 * k + 2]) = (s, i, _values[s][i]);
        }
        _fresh.Clear();
        var taken = new HashSet<(int, int)>();
        foreach (var entries in group.AllGather(mine))
            for (int k = 0; k + 2 < entries.Length; k += 3)
            {
                int s = (int)entries[k], i = (int)entries[k + 1];
                if (!taken.Add((s, i))) continue;
                _values[s][i] = entries[k + 2];
                _dirty = true;
            }
    }

    /// <summary>
    /// Collective: rank 0 reads the run's cache (<see cref="TryLoad"/>) and every rank receives its
    /// table, so the other ranks need not see the file. Returns how many values are known.
    /// </summary>
    public int LoadShared(DataParallelGroup group)
    {
        if (group.WorldSize == 1) return TryLoad();
        if (group.WritesFiles) TryLoad();
        var all = new double[_values[0].Length + _values[1].Length];
        _values[0].CopyTo(all, 0);
        _values[1].CopyTo(all, _values[0].Length);
        group.BroadcastFromRankZero(all);
        all.AsSpan(0, _values[0].Length).CopyTo(_values[0]);
        all.AsSpan(_values[0].Length).CopyTo(_values[1]);
        return _values.Sum(v => v.Count(double.IsFinite));
    }

    private void Score(int split, int[] rows, int batchSize)
    {
        var set = _sets[split];
        var lp = Model.ScoreSequences(rows.Select(i => set.Rows[i].Prompt).ToArray(), rows.Select(i => set.Rows[i].Completion).ToArray(),
            batchSize, _lengthNormalize);
        for (int k = 0; k < rows.Length; k++)
        {
            _values[split][rows[k]] = (float)lp[k];
            _fresh.Add((split, rows[k]));
        }
        _dirty = true;
        ReleaseModelWhenComplete();
    }

    /// <summary>Frees the reference model (a whole copy of the weights) once every row's value is known, unless it is still needed.</summary>
    private void ReleaseModelWhenComplete()
    {
        if (_keepModel || _model is null) return;
        foreach (var v in _values) foreach (double x in v) if (!double.IsFinite(x)) return;
        _model.Dispose();
        _model = null;
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
            ReleaseModelWhenComplete();
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
