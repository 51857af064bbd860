using DroSharp.Arena.Tasks;
using DroSharp.Models.Generation;
using DroSharp.Models;
using DroSharp.Tensors.Autograd;
using DroSharp.Text;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// Evaluates policies on fixed prompts against the task's true reward. Every policy is sampled with the
/// same seeds in the same batches (common random numbers: two identical policies give identical samples),
/// at temperature 1 with no top-k/top-p, so the samples are draws from π itself and
/// mean(log π(y|x) − log π_ref(y|x)) over them is an unbiased Monte-Carlo estimate of the sequence-level
/// KL(π‖π_ref). A sample that reaches the token limit without end-of-sequence is scored as it stands; its
/// log-probabilities are those of that prefix, which keeps the KL estimate exact for the truncated outcome.
/// </summary>
public sealed class PolicyEvaluator
{
    private readonly ArenaTask _task;
    private readonly Tokenizer _tokenizer;
    private readonly IPolicyModel _reference;
    private readonly IReadOnlyList<string> _prompts;
    private readonly int[][] _promptIds;
    private readonly int _maxNewTokens;
    private readonly int _batchSize;

    /// <param name="reference">π_ref, for the KL estimate; not disposed here.</param>
    public PolicyEvaluator(ArenaTask task, Tokenizer tokenizer, IPolicyModel reference, IReadOnlyList<string> prompts, int maxNewTokens, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("no evaluation prompts");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _task = task;
        _tokenizer = tokenizer;
        _reference = reference;
        _prompts = prompts;
        _promptIds = prompts.Select(p => tokenizer.EncodeIds(p, addSpecialTokens: true)).ToArray();
        _maxNewTokens = maxNewTokens;
        _batchSize = batchSize;
    }

    public IReadOnlyList<string> Prompts => _prompts;

    /// <summary>
    /// Samples (seeded by <paramref name="sampleSeed"/>, batch b with seed sampleSeed + b), their rewards and
    /// log-ratios to π_ref (NaN when <paramref name="logRatios"/> is false: not scored); with <paramref name="greedy"/>
    /// also the greedy responses.
    /// </summary>
    public PolicyEvaluation Evaluate(IPolicyModel policy, ulong sampleSeed, bool greedy, bool logRatios = true)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var sampleIds = Generate(policy, new GenerationOptions { Greedy = false, Temperature = 1f, MaxNewTokens = _maxNewTokens }, sampleSeed);
        var samples = sampleIds.Select(Decode).ToArray();
        var rewards = new double[samples.Length];
        for (int i = 0; i < samples.Length; i++) rewards[i] = _task.Reward(_prompts[i], samples[i]);

        double[] ratios;
        if (ReferenceEquals(policy, _reference))
        {
            ratios = new double[samples.Length];
        }
        else if (!logRatios)
        {
            ratios = Enumerable.Repeat(double.NaN, samples.Length).ToArray();
        }
        else
        {
            var lp = SequenceLogProbs(policy, sampleIds);
            var lr = SequenceLogProbs(_reference, sampleIds);
            ratios = lp.Zip(lr, (a, b) => a - b).ToArray();
        }

        string[]? greedyTexts = null;
        double[]? greedyRewards = null;
        if (greedy)
        {
            greedyTexts = Generate(policy, new GenerationOptions { Greedy = true, MaxNewTokens = _maxNewTokens }, 0).Select(Decode).ToArray();
            greedyRewards = new double[greedyTexts.Length];
            for (int i = 0; i < greedyTexts.Length; i++) greedyRewards[i] = _task.Reward(_prompts[i], greedyTexts[i]);
        }
        var tokens = policy.Tokens;
        return new PolicyEvaluation
        {
            Prompts = _prompts,
            Samples = samples,
            SampleRewards = rewards,
            LogRatios = ratios,
            UnfinishedSamples = sampleIds.Count(ids => ids.Length == 0 || !tokens.IsStop(ids[^1])),
            Greedy = greedyTexts,
            GreedyRewards = greedyRewards,
        };
    }

    /// <summary>Generated ids (end-of-sequence included when reached) for every prompt, in order.</summary>
    internal List<int[]> Generate(IPolicyModel policy, GenerationOptions options, ulong seed)
    {
        var generator = new Generator(policy);
        var result = new List<int[]>(_promptIds.Length);
        for (int start = 0, b = 0; start < _promptIds.Length; start += _batchSize, b++)
        {
            var chunk = _promptIds.Skip(start).Take(_batchSize).ToList();
            result.AddRange(generator.Generate(chunk, options with { Seed = seed + (ulong)b }));
        }
        return result;
    }

    /// <summary>log π(y|x) summed over the response tokens, for every prompt with its response, no gradient.</summary>
    internal double[] SequenceLogProbs(IPolicyModel model, IReadOnlyList<int[]> responses) =>
        model.ScoreSequences(_promptIds.Take(responses.Count).ToList(), responses, _batchSize);

    private string Decode(int[] ids) => _tokenizer.Decode(ids, skipSpecialTokens: true);
}
