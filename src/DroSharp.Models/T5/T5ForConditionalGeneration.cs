using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.T5;

/// <summary>
/// Hugging Face's <c>T5ForConditionalGeneration</c>: <c>shared.weight</c> [vocab, d], encoder and
/// decoder stacks, and <c>lm_head.weight</c> [vocab, d] when embeddings are untied (v1.1/Flan); tied
/// (v1.0) models project with <c>shared.weight</c> after rescaling by d_model^-0.5. No embedding
/// scaling. Every op records on the current <see cref="Tape"/>.
/// </summary>
public sealed class T5ForConditionalGeneration : IPolicyModel
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
        Tokens = new SpecialTokens(PadId, EosId, [EosId], BosId: null, AppendEosToCompletion: false);
    }

    public IModelFamily Family => T5Family.Instance;

    IModelConfig IPolicyModel.Config => Config;

    /// <summary>T5's tokenizer ends every text with <c>&lt;/s&gt;</c>, so completions get no extra EOS.</summary>
    public SpecialTokens Tokens { get; }

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

    public SequenceBatch CreateBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions) =>
        Seq2SeqBatch.Create(prompts, completions, PadId, DecoderStartId);

    /// <summary>
    /// Token log-probs [B, R] of the completions given the prompts (encoder input); prompt features =
    /// the encoder states mean-pooled over each prompt's real tokens, [B, d].
    /// </summary>
    public PolicyOutput Forward(SequenceBatch batch, bool withPromptFeatures = false)
    {
        var b = AsSeq2Seq(batch);
        var enc = Encode(b.PromptIds, b.PromptMask);
        var dec = DecodeHidden(b.DecoderInputIds, b.Size, enc, b.PromptMask);
        var lp = Ops.LogSoftmaxGather(Logits(dec), b.Targets);
        var tokens = Ops.Reshape(lp, new Shape(b.Size, b.CompletionLength));
        return new PolicyOutput(tokens, withPromptFeatures ? Ops.MaskedMeanPool(enc, b.PromptMask) : null);
    }

    public MatmulFlops ForwardFlops(SequenceBatch batch)
    {
        var b = AsSeq2Seq(batch);
        return EncoderFlops(Config, b.Size, b.PromptLength) + DecoderFlops(b.Size, b.PromptLength, b.CompletionLength)
               + new MatmulFlops(2.0 * b.Size * b.CompletionLength * Config.DModel * Config.VocabSize, 0);
    }

    /// <summary>The encoder stack's projections and (unmasked, padded) self-attention products.</summary>
    internal static MatmulFlops EncoderFlops(T5Config c, int batch, int p)
    {
        double tokens = (double)batch * p;
        double ffIn = c.IsGatedAct ? 2 : 1;
        double perToken = 2.0 * c.DModel * c.InnerDim * 4 + 2.0 * c.DModel * c.DFf * (ffIn + 1);
        return MatmulFlops.Blocks(tokens * perToken * c.NumLayers, 2 * 2.0 * c.InnerDim * p * tokens * c.NumLayers);
    }

    private MatmulFlops DecoderFlops(int batch, int p, int r)
    {
        var c = Config;
        double tokens = (double)batch * r;
        double ffIn = c.IsGatedAct ? 2 : 1;
        // self q,k,v,o + cross q,o on the R tokens, cross k,v on the P encoder states, the feed-forward
        double projections = (tokens * (2.0 * c.DModel * c.InnerDim * 6 + 2.0 * c.DModel * c.DFf * (ffIn + 1))
                              + (double)batch * p * 2.0 * c.DModel * c.InnerDim * 2) * c.NumDecoderLayers;
        double attention = (2 * 2.0 * c.InnerDim * (r + 1) / 2.0 * tokens + 2 * 2.0 * c.InnerDim * p * tokens) * c.NumDecoderLayers;
        return MatmulFlops.Blocks(projections, attention);
    }

    public Tensor NextTokenLogits(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> prefixes)
    {
        if (prompts.Count != prefixes.Count) throw new ArgumentException($"{prompts.Count} prompts but {prefixes.Count} prefixes");
        // Decoder input [start, y0 … y_{t−1}] per row, right-padded; the logits of each row's last real position.
        var withNext = prefixes.Select(p => p.Append(PadId).ToArray()).ToList();
        using var batch = Seq2SeqBatch.Create(prompts, withNext, PadId, DecoderStartId);
        var enc = Encode(batch.PromptIds, batch.PromptMask);
        var hidden = DecodeHidden(batch.DecoderInputIds, batch.Size, enc, batch.PromptMask); // [B, R, d]
        int d = Config.DModel, r = batch.CompletionLength;
        var last = Tape.NewTensor(new Shape(batch.Size, d));
        for (int i = 0; i < batch.Size; i++)
            hidden.Span.Slice((i * r + prefixes[i].Length) * d, d).CopyTo(last.Span.Slice(i * d, d));
        return Logits(last);
    }

    public IIncrementalDecoder StartDecoding(IReadOnlyList<int[]> prompts, int maxNewTokens) => new T5IncrementalDecoder(this, prompts, maxNewTokens);

    public void Save(string directory) => T5ModelFiles.Save(Config, Parameters, directory);

    internal static Seq2SeqBatch AsSeq2Seq(SequenceBatch batch) =>
        batch as Seq2SeqBatch ?? throw new ArgumentException($"a T5 model needs a batch made by its own CreateBatch, not a {batch.GetType().Name}");

    public void Dispose() => Parameters.Dispose();
}
