using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>
/// A GGUF file loaded by llama.cpp through LLamaSharp for cross-implementation tests: F32 KV cache (the F16
/// default costs ~2e-2 in log-probs), one thread, no flash attention, LLamaSharp's own choice of the CPU build
/// (AVX2 / AVX-512). llama.cpp's log is kept in <see cref="Log"/> for failure messages.
/// </summary>
internal sealed class LlamaCppModel : IDisposable
{
    private static readonly object LogLock = new();
    private static readonly StringBuilder LogText = new();

    static LlamaCppModel()
    {
        try
        {
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                lock (LogLock) LogText.Append(message);
            });
        }
        catch (InvalidOperationException)
        {
            // Another test loaded llama.cpp first (through LLamaSharp directly): its log is then not captured.
        }
    }

    private readonly LLamaWeights _weights;

    private LlamaCppModel(string path, LLamaWeights weights)
    {
        Path = path;
        _weights = weights;
    }

    public string Path { get; }

    public LLamaWeights Weights => _weights;

    /// <summary>llama.cpp's log since the last <see cref="ClearLog"/>.</summary>
    public static string Log
    {
        get { lock (LogLock) return LogText.ToString(); }
    }

    public static void ClearLog()
    {
        lock (LogLock) LogText.Clear();
    }

    public static LlamaCppModel Load(string path, bool vocabOnly = false)
    {
        var p = Parameters(path, 256);
        p.VocabOnly = vocabOnly;
        return new LlamaCppModel(path, LLamaWeights.LoadFromFile(p));
    }

    private static ModelParams Parameters(string path, int contextSize) => new(path)
    {
        ContextSize = (uint)contextSize,
        BatchSize = (uint)contextSize,
        UBatchSize = (uint)contextSize,
        Threads = 1,
        BatchThreads = 1,
        GpuLayerCount = 0,
        TypeK = GGMLType.GGML_TYPE_F32,
        TypeV = GGMLType.GGML_TYPE_F32,
        FlashAttention = false,
        SwaFull = true,
    };

    private LLamaContext NewContext(int tokens) => _weights.CreateContext(Parameters(Path, tokens));

    /// <summary>
    /// log p(completion[k] | prompt, completion[..k]) for every completion token, from one batch over the whole
    /// sequence with logits at every position (computed in double from llama.cpp's float logits).
    /// </summary>
    public double[] CompletionLogProbs(IReadOnlyList<int> prompt, IReadOnlyList<int> completion, int? contextSize = null)
    {
        int n = prompt.Count + completion.Count;
        using var ctx = NewContext(contextSize ?? n);
        var batch = new LLamaBatch();
        for (int i = 0; i < n; i++)
            batch.Add(i < prompt.Count ? prompt[i] : completion[i - prompt.Count], i, LLamaSeqId.Zero, logits: true);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}\n{Log}");
        var logps = new double[completion.Count];
        for (int k = 0; k < completion.Count; k++)
        {
            var logits = ctx.NativeHandle.GetLogitsIth(prompt.Count - 1 + k);
            logps[k] = LogSoftmaxAt(logits, completion[k]);
        }
        return logps;
    }

    /// <summary>All logits (vocab) after each position of <paramref name="tokens"/>.</summary>
    public float[][] Logits(IReadOnlyList<int> tokens)
    {
        using var ctx = NewContext(tokens.Count);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}\n{Log}");
        return Enumerable.Range(0, tokens.Count).Select(i => ctx.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>
    /// Greedy decoding by llama.cpp: the prompt in one batch, then <paramref name="maxNewTokens"/> steps each
    /// feeding back the argmax (lowest id on ties); stops after an end-of-generation token when
    /// <paramref name="stopAtEndOfGeneration"/>. Returns the new ids only.
    /// </summary>
    public int[] GenerateGreedy(IReadOnlyList<int> prompt, int maxNewTokens, bool stopAtEndOfGeneration = true)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt must not be empty", nameof(prompt));
        using var ctx = NewContext(prompt.Count + maxNewTokens);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Count - 1);
        var generated = new List<int>();
        int position = prompt.Count;
        int logitIndex = prompt.Count - 1;
        for (int step = 0; step < maxNewTokens; step++)
        {
            var result = ctx.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}\n{Log}");
            var logits = ctx.NativeHandle.GetLogitsIth(logitIndex);
            int next = 0;
            for (int v = 1; v < logits.Length; v++)
                if (logits[v] > logits[next]) next = v;
            generated.Add(next);
            if (stopAtEndOfGeneration && ((LLamaToken)next).IsEndOfGeneration(_weights.Vocab)) break;
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, logits: true);
            logitIndex = 0;
        }
        return generated.ToArray();
    }

    /// <summary>llama.cpp's tokenization of <paramref name="text"/> (no BOS added, special tokens parsed).</summary>
    public int[] Tokenize(string text, bool addBos = false) =>
        _weights.NativeHandle.Tokenize(text, addBos, special: true, Encoding.UTF8).Select(t => (int)t).ToArray();

    public string Metadata(string key) => _weights.Metadata.TryGetValue(key, out var v) ? v : "";

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        return logits[index] - max - Math.Log(sum);
    }

    public void Dispose() => _weights.Dispose();
}
