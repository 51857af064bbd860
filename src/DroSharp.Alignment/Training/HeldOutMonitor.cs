using System.Text.Json;
using DroSharp.Models;
using DroSharp.Models.Generation;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Health signals of the policy on held-out prompts, at each evaluation: a fixed, seeded set of a few
/// dozen distinct prompts of the evaluation split is sampled at temperature 1 (no top-k/top-p, the
/// same seeds every time, so two evaluations of the same weights give the same samples), and
/// <code>
/// eval_objective/kl             = mean over the samples y ~ π(·|x) of log π(y|x) − log π_ref(y|x)   (sequence level, nats;
///                                 an unbiased estimate of KL(π‖π_ref); TRL's objective/kl)
/// eval_val/contain_eos_token    = fraction of samples that end with a stop id (TRL's Online DPO name)
/// eval_completions/mean_length  = mean sampled tokens, the stop id included (TRL's GRPO name)
/// eval_completions/clipped_ratio = 1 − the EOS rate (TRL's GRPO name)
/// </code>
/// π_ref is sampled once on the same prompts with the same seeds (step 0: <c>eval_ref_*</c>), the
/// baseline the lengths and EOS rate are compared with. A sample cut at the token limit is scored as
/// it stands (its log-probs are those of the prefix, which keeps the KL estimate exact for the cut
/// outcome). Every sample is written to <c>samples.jsonl</c> for <c>dro report</c>.
/// </summary>
internal sealed class HeldOutMonitor
{
    public const string KlName = HeldOutMetricNames.Kl;
    public const string EosName = HeldOutMetricNames.EosRate;
    public const string LengthName = HeldOutMetricNames.MeanLength;
    public const string ClippedName = HeldOutMetricNames.ClippedRatio;
    public const string RefEosName = HeldOutMetricNames.ReferenceEosRate;
    public const string RefLengthName = HeldOutMetricNames.ReferenceMeanLength;

    private readonly int[][] _prompts;
    private readonly int _maxNewTokens;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private readonly IReferencePolicy _reference;
    private readonly string? _samplesFile;
    private SortedDictionary<string, double>? _referenceMetrics;

    public HeldOutMonitor(IReadOnlyList<int[]> prompts, int maxNewTokens, int batchSize, ulong seed, IReferencePolicy reference, string? samplesFile)
    {
        if (prompts.Count == 0) throw new ArgumentException("no held-out prompts to sample");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _prompts = prompts.ToArray();
        _maxNewTokens = maxNewTokens;
        _batchSize = batchSize;
        _seed = seed;
        _reference = reference;
        _samplesFile = samplesFile;
    }

    public IReadOnlyList<int[]> Prompts => _prompts;

    public int MaxNewTokens => _maxNewTokens;

    /// <summary>
    /// The monitor of a run, or null when there is nothing to sample (no held-out split or
    /// <c>--eval-samples 0</c>): up to <c>EvalSamples</c> distinct prompts of the split in a seeded order;
    /// the token limit is <c>--eval-max-new-tokens</c>, else twice the longest held-out completion
    /// (capped by <c>--max-completion-length</c> and, for a decoder, by its positions left after the longest prompt).
    /// </summary>
    public static HeldOutMonitor? Create(TrainingOptions o, TrainingSet eval, int? maxSequenceLength, IReferencePolicy reference, string? samplesFile)
    {
        if (o.EvalSamples == 0 || eval.Rows.Length == 0) return null;
        var distinct = new List<int[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in eval.Rows)
            if (seen.Add(string.Join(',', row.Prompt))) distinct.Add(row.Prompt);
        // Seeded Fisher–Yates, independent of the training sampler's stream.
        var rng = new DeterministicRandom(o.Seed ^ 0x4E1D_0075_A3B1_E5C7UL);
        for (int i = distinct.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (distinct[i], distinct[j]) = (distinct[j], distinct[i]);
        }
        var prompts = distinct.Take(o.EvalSamples).ToList();
        int longest = eval.Rows.Max(r => r.Completion.Length);
        int maxNew = o.EvalMaxNewTokens ?? Math.Min(2 * Math.Max(1, longest), o.MaxCompletionLength ?? int.MaxValue);
        // A decoder's prompt and completion share its positions.
        if (maxSequenceLength is int m) maxNew = Math.Min(maxNew, m - prompts.Max(p => p.Length));
        return new HeldOutMonitor(prompts, Math.Max(1, maxNew), Math.Max(8, o.BatchSize), o.Seed ^ 0x5A3B_1E5D_0F0E_7A11UL, reference, samplesFile);
    }

    /// <summary>
    /// π_ref's samples on the prompts: read back from <c>samples.jsonl</c> when an earlier start of the run
    /// wrote them, else drawn now (from <paramref name="policy"/> itself when it is still π_ref, which
    /// saves loading the reference) and written. Returns the <c>eval_ref_*</c> values of step 0.
    /// </summary>
    public SortedDictionary<string, double> Start(IPolicyModel policy, bool policyIsReference)
    {
        var saved = ReadReferenceSamples();
        List<int[]> samples;
        if (saved is not null)
        {
            samples = saved;
        }
        else
        {
            samples = policyIsReference ? Generate((p, opt) => new Generator(policy).Generate(p, opt)) : Generate(_reference.Generate);
            WriteSamples(0, HeldOutSample.Reference, samples, new double[samples.Count], policy.Tokens);
        }
        if (!policyIsReference) _reference.Release();
        var (eos, length) = Stats(samples, policy.Tokens);
        _referenceMetrics = new SortedDictionary<string, double>(StringComparer.Ordinal) { [RefEosName] = eos, [RefLengthName] = length };
        return _referenceMetrics;
    }

    /// <summary>π_ref's EOS rate and mean length on the prompts (after <see cref="Start"/>).</summary>
    public IReadOnlyDictionary<string, double> ReferenceMetrics => _referenceMetrics ?? throw new InvalidOperationException("Start the monitor first");

    /// <summary>Samples the policy and returns the <c>eval_*</c> signals of this step (π_ref is loaded, used and released).</summary>
    public SortedDictionary<string, double> Evaluate(IPolicyModel policy, long step, bool policyIsReference = false)
    {
        var samples = Generate((p, opt) => new Generator(policy).Generate(p, opt));
        var ratios = new double[samples.Count];
        if (!policyIsReference)
        {
            int n = samples.Count;
            var prompts = _prompts.Take(n).ToArray();
            var lp = policy.ScoreSequences(prompts, samples, _batchSize);
            var lref = _reference.Score(prompts, samples, _batchSize, lengthNormalize: false);
            _reference.Release();
            for (int i = 0; i < n; i++) ratios[i] = lp[i] - lref[i];
        }
        WriteSamples(step, HeldOutSample.Policy, samples, ratios, policy.Tokens);
        var (eos, length) = Stats(samples, policy.Tokens);
        var d = new SortedDictionary<string, double>(StringComparer.Ordinal)
        {
            [KlName] = ratios.Average(),
            [EosName] = eos,
            [ClippedName] = 1 - eos,
            [LengthName] = length,
        };
        if (_referenceMetrics is not null) foreach (var (k, v) in _referenceMetrics) d[k] = v;
        return d;
    }

    private List<int[]> Generate(Func<IReadOnlyList<int[]>, GenerationOptions, List<int[]>> generate)
    {
        var result = new List<int[]>(_prompts.Length);
        for (int start = 0, b = 0; start < _prompts.Length; start += _batchSize, b++)
        {
            var chunk = _prompts.Skip(start).Take(_batchSize).ToList();
            var options = new GenerationOptions { Greedy = false, Temperature = 1f, MaxNewTokens = _maxNewTokens, Seed = _seed + (ulong)b };
            result.AddRange(generate(chunk, options));
        }
        return result;
    }

    private static (double EosRate, double MeanLength) Stats(IReadOnlyList<int[]> samples, SpecialTokens tokens)
    {
        int finished = samples.Count(s => s.Length > 0 && tokens.IsStop(s[^1]));
        return ((double)finished / samples.Count, samples.Average(s => (double)s.Length));
    }

    private void WriteSamples(long step, string source, IReadOnlyList<int[]> samples, double[] ratios, SpecialTokens tokens)
    {
        if (_samplesFile is null) return;
        using var w = new StreamWriter(_samplesFile, append: true);
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            w.WriteLine(JsonSerializer.Serialize(new HeldOutSample
            {
                Step = step, Source = source, Index = i, PromptIds = _prompts[i], CompletionIds = s,
                Finished = s.Length > 0 && tokens.IsStop(s[^1]), LogRatio = ratios[i],
            }));
        }
    }

    /// <summary>The reference's samples from samples.jsonl when they are complete and for these prompts, else null.</summary>
    private List<int[]>? ReadReferenceSamples()
    {
        if (_samplesFile is null || !File.Exists(_samplesFile)) return null;
        var found = new int[_prompts.Length][];
        foreach (var line in File.ReadLines(_samplesFile))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            HeldOutSample? s;
            try { s = JsonSerializer.Deserialize<HeldOutSample>(line); }
            catch (JsonException) { continue; }
            if (s is null || s.Source != HeldOutSample.Reference || s.Index < 0 || s.Index >= found.Length) continue;
            if (!s.PromptIds.AsSpan().SequenceEqual(_prompts[s.Index])) return null;
            found[s.Index] = s.CompletionIds;
        }
        return found.All(f => f is not null) ? found.ToList() : null;
    }
}
