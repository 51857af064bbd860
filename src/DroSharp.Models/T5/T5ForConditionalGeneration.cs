using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// Hugging Face's <c>T5ForConditionalGeneration</c>: <c>shared.weight</c> [vocab, d], encoder and
/// decoder stacks, and <c>lm_head.weight</c> [vocab, d] when embeddings are untied (v1.1/Flan); tied
/// (v1.0) models project with <c>shared.weight</c> after rescaling by d_model^-0.5. No embedding
/// scaling. Every op records on the current <see cref="Tensors.Autograd.Tape"/>.
/// </summary>
public sealed class T5ForConditionalGeneration : IDisposable
{
    public T5Config Config { get; }
    public ParameterSet Parameters { get; } = new();
    public Tensor Shared { get; }
    public T5Stack Encoder { get; }
    public T5Stack Decoder { get; }
    public Tensor? LmHead { get; }

    /// <summary>Padding id (config <c>pad_token_id</c>, T5's 0 when absent).</summary>
    public int PadId => Config.PadTokenId ?? 0;
    /// <summary>End-of-sequence id (config <c>eos_token_id</c>, T5's 1 when absent).</summary>
    public int EosId => Config.EosTokenId ?? 1;
    /// <summary>First decoder input (config <c>decoder_start_token_id</c>, else the pad id, as T5 does).</summary>
    public int DecoderStartId => Config.DecoderStartTokenId ?? PadId;

    /// <summary>A model with zeroed weights: load a checkpoint or call <see cref="InitializeWeights"/>.</summary>
    public T5ForConditionalGeneration(T5Config config)
    {
        Config = config;
        Shared = Parameters.Create("shared.weight", new Shape(config.VocabSize, config.DModel));
        Encoder = new T5Stack(Parameters, "encoder", config, isDecoder: false);
        Decoder = new T5Stack(Parameters, "decoder", config, isDecoder: true);
        if (!config.TieWordEmbeddings)
            LmHead = Parameters.Create("lm_head.weight", new Shape(config.VocabSize, config.DModel));
    }

    /// <summary>HF <c>T5PreTrainedModel._init_weights</c>: normal with the std of <see cref="T5Initialization"/>, layer norms 1.</summary>
    public void InitializeWeights(DeterministicRandom rng) => T5Initialization.Initialize(Parameters, Config, rng);

    /// <summary>ids: [B·P], mask: [B, P] → encoder hidden states [B, P, d].</summary>
    public Tensor Encode(int[] ids, Tensor mask)
    {
        int b = mask.Shape[0], p = mask.Shape[1];
        var emb = Ops.Reshape(Ops.Embedding(Shared, ids), new Shape(b, p, Config.DModel));
        return Encoder.Forward(emb, mask);
    }

    /// <summary>decoderInputIds: [B·R] → decoder hidden states [B, R, d] (final-layer-normed).</summary>
    public Tensor DecodeHidden(int[] decoderInputIds, int batch, Tensor encoderHidden, Tensor encoderMask)
    {
        int r = decoderInputIds.Length / batch;
        var emb = Ops.Reshape(Ops.Embedding(Shared, decoderInputIds), new Shape(batch, r, Config.DModel));
        return Decoder.Forward(emb, null, encoderHidden, encoderMask);
    }

    /// <summary>hidden: [..., d] → logits [rows, vocab].</summary>
    public Tensor Logits(Tensor hidden)
    {
        var h = Ops.Reshape(hidden, new Shape(hidden.Shape.Rows, Config.DModel));
        if (LmHead is not null) return Ops.Linear(h, LmHead);
        // tied: "Rescale output before projecting on vocab"
        return Ops.Linear(Ops.Scale(h, 1f / MathF.Sqrt(Config.DModel)), Shared);
    }

    /// <summary>log π(y_t | x, y_&lt;t) per response position, 0 at padding: [B, R].</summary>
    public Tensor TokenLogProbs(Seq2SeqBatch batch)
    {
        var enc = Encode(batch.PromptIds, batch.PromptMask);
        var dec = DecodeHidden(batch.DecoderInputIds, batch.Size, enc, batch.PromptMask);
        var logits = Logits(dec);
        var lp = Ops.LogSoftmaxGather(logits, batch.Targets);
        return Ops.Reshape(lp, new Shape(batch.Size, batch.ResponseLength));
    }

    /// <summary>
    /// log π(y|x) = Σ_t log π(y_t | x, y_&lt;t) over the response's real tokens: [B]. With
    /// <paramref name="lengthNormalize"/> the sum is divided by the response length — an option
    /// only: it changes DRO's fixed point (see reference algorithms §3.6).
    /// </summary>
    public Tensor SequenceLogProbs(Seq2SeqBatch batch, bool lengthNormalize = false)
    {
        var sum = Ops.SumLastAxis(TokenLogProbs(batch));
        if (!lengthNormalize) return sum;
        var inv = Tensors.Autograd.Tape.NewTensor(new Shape(batch.Size));
        for (int i = 0; i < batch.Size; i++) inv[i] = 1f / Math.Max(1, batch.ResponseLengths[i]);
        return Ops.Mul(sum, inv);
    }

    /// <summary>
    /// log π(completionᵢ | promptᵢ) for every pair, no gradient, scored <paramref name="batchSize"/>
    /// pairs at a time on a non-recording tape (same sums as <see cref="SequenceLogProbs"/>).
    /// </summary>
    public double[] ScoreSequences(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int batchSize, bool lengthNormalize = false)
    {
        if (prompts.Count != completions.Count) throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be at least 1");
        var result = new double[prompts.Count];
        using var tape = new Tensors.Autograd.Tape(recording: false);
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, prompts.Count - start);
            var p = new int[n][];
            var c = new int[n][];
            for (int i = 0; i < n; i++) { p[i] = prompts[start + i]; c[i] = completions[start + i]; }
            using var batch = Seq2SeqBatch.Create(p, c, PadId, DecoderStartId);
            using (tape.Activate())
            {
                var lp = SequenceLogProbs(batch, lengthNormalize);
                for (int i = 0; i < n; i++) result[start + i] = lp[i];
            }
            tape.Reset();
        }
        return result;
    }

    public void Dispose() => Parameters.Dispose();
}
