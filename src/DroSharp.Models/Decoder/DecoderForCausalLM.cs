using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Decoder;

/// <summary>
/// transformers' <c>XxxForCausalLM</c> for every decoder-only family: the backbone (<c>model.*</c>) and
/// the LM head <c>lm_head.weight</c> [vocab, hidden], or the embedding when tied; Gemma 2's final
/// soft-cap. Log-probs are computed only at the positions that predict completion tokens.
/// </summary>
public sealed class DecoderForCausalLM : IPolicyModel
{
    public DecoderForCausalLM(DecoderConfig config, SpecialTokens? tokens = null, JsonObject? generationConfig = null)
    {
        Config = config;
        Model = new DecoderModel(Parameters, "model", config);
        if (!config.TieWordEmbeddings) LmHead = Parameters.Create("lm_head.weight", new Shape(config.VocabSize, config.HiddenSize));
        Tokens = tokens ?? DecoderFamily.DefaultTokens(config, generationConfig);
        GenerationConfig = generationConfig;
    }

    public DecoderConfig Config { get; }
    public ParameterSet Parameters { get; } = new();
    public DecoderModel Model { get; }

    /// <summary>lm_head.weight, or null when tied to model.embed_tokens.weight.</summary>
    public Tensor? LmHead { get; }

    /// <summary>generation_config.json as loaded (written back on save), or null.</summary>
    public JsonObject? GenerationConfig { get; }

    public IModelFamily Family => DecoderFamily.Instance;
    IModelConfig IPolicyModel.Config => Config;
    public SpecialTokens Tokens { get; }

    public void InitializeWeights(DeterministicRandom rng) => DecoderInitialization.Initialize(Parameters, Config, rng);

    public SequenceBatch CreateBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions) =>
        new CausalBatch(prompts, completions, Tokens.PadId);

    /// <summary>hidden rows [N, hidden] → logits [N, vocab] (soft-capped for Gemma 2).</summary>
    public Tensor Logits(Tensor hidden)
    {
        var logits = Ops.Linear(hidden, LmHead ?? Model.EmbedTokens);
        return Config.FinalLogitSoftcapping > 0 ? Ops.SoftCap(logits, Config.FinalLogitSoftcapping) : logits;
    }

    public PolicyOutput Forward(SequenceBatch batch, bool withPromptFeatures = false)
    {
        var b = AsCausal(batch);
        var hidden = Model.Forward(b.InputIds, b.Positions, b.Size, b.KeyMask, b.RowLengths);
        var flat = Ops.Reshape(hidden, new Shape(b.Size * b.Length, Config.HiddenSize));
        var lp = Ops.LogSoftmaxGather(Logits(Ops.GatherRows(flat, b.LogitRows)), b.Targets);
        var tokens = Ops.Reshape(lp, new Shape(b.Size, b.CompletionLength));
        return new PolicyOutput(tokens, withPromptFeatures ? Ops.GatherRows(flat, b.PromptLastRows) : null);
    }

    public MatmulFlops ForwardFlops(SequenceBatch batch)
    {
        var b = AsCausal(batch);
        var backbone = Model.ForwardFlops(b.Size, b.Length, b.RowLengths);
        // The LM head runs on the completion rows only (B·R of them).
        return backbone + new MatmulFlops(2.0 * b.Size * b.CompletionLength * Config.HiddenSize * Config.VocabSize, 0);
    }

    public Tensor NextTokenLogits(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> prefixes)
    {
        if (prompts.Count != prefixes.Count) throw new ArgumentException($"{prompts.Count} prompts but {prefixes.Count} prefixes");
        var rows = prompts.Select((p, i) => (int[])[.. p, .. prefixes[i]]).ToList();
        using var batch = new CausalBatch(rows, rows.Select(_ => Array.Empty<int>()).ToList(), Tokens.PadId);
        var hidden = Model.Forward(batch.InputIds, batch.Positions, batch.Size, batch.KeyMask, batch.RowLengths);
        var flat = Ops.Reshape(hidden, new Shape(batch.Size * batch.Length, Config.HiddenSize));
        var last = Enumerable.Range(0, batch.Size).Select(i => i * batch.Length + batch.RowLengths[i] - 1).ToArray();
        return Logits(Ops.GatherRows(flat, last));
    }

    public IIncrementalDecoder StartDecoding(IReadOnlyList<int[]> prompts, int maxNewTokens) => new DecoderIncrementalDecoder(this, prompts, maxNewTokens);

    /// <summary>config.json (torch_dtype float32), model.safetensors (float32, HF names; a tied head is not stored) and generation_config.json.</summary>
    public void Save(string directory) => DecoderModelFiles.Save(this, directory);

    internal static CausalBatch AsCausal(SequenceBatch batch) =>
        batch as CausalBatch ?? throw new ArgumentException($"a decoder-only model needs a batch made by its own CreateBatch, not a {batch.GetType().Name}");

    public void Dispose() => Parameters.Dispose();
}
