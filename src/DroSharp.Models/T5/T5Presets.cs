namespace DroSharp.Models.T5;

/// <summary>
/// Named T5 configurations. <c>t5-tiny</c>, <c>t5-mini</c> and <c>t5-small</c> are the PyTorch peer's
/// (<c>t5_peer.py</c> CONFIGS, written as its <c>to_hf_json</c> does: dropout 0, so a benchmark
/// against the peer compares the same computation); <c>t5-tiny</c> is exactly the golden
/// <c>config.json</c>; <c>t5-small</c> has google/t5-v1_1-small's shapes. <c>flan-t5-small</c> and
/// <c>t5-small-v1</c> are the Hugging Face hub configs of google/flan-t5-small and t5-small (v1.0),
/// dropout 0.1 included.
/// </summary>
public static class T5Presets
{
    public static IReadOnlyList<string> Names { get; } = ["t5-tiny", "t5-mini", "t5-small", "flan-t5-small", "t5-small-v1"];

    /// <summary>
    /// A fresh config for <paramref name="name"/>; <paramref name="vocabSize"/> replaces the vocabulary
    /// size (e.g. for a tokenizer trained on the task).
    /// </summary>
    public static T5Config Get(string name, int? vocabSize = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!TryGet(name, out var config, vocabSize))
            throw new ArgumentException($"unknown T5 preset \"{name}\"; known presets: {string.Join(", ", Names)}", nameof(name));
        return config;
    }

    public static bool TryGet(string name, out T5Config config, int? vocabSize = null)
    {
        T5Config? c = name switch
        {
            // The golden model: v1.1 style (gated-gelu, untied), tiny.
            "t5-tiny" => Peer(vocab: 128, dModel: 32, dFf: 64, dKv: 8, heads: 4, layers: 2),
            // The peer's synthetic benchmark model.
            "t5-mini" => Peer(vocab: 8192, dModel: 256, dFf: 1024, dKv: 64, heads: 4, layers: 4),
            // The peer's google/t5-v1_1-small shapes (inner_dim 384 ≠ d_model 512).
            "t5-small" => Peer(vocab: 32128, dModel: 512, dFf: 1024, dKv: 64, heads: 6, layers: 8),
            "flan-t5-small" => new T5Config
            {
                VocabSize = 32128, DModel = 512, DKv = 64, DFf = 1024, NumLayers = 8, NumDecoderLayers = 8, NumHeads = 6,
                FeedForwardProj = "gated-gelu", TieWordEmbeddings = false, DropoutRate = 0.1,
                DecoderStartTokenId = 0, PadTokenId = 0, EosTokenId = 1, Architectures = ["T5ForConditionalGeneration"],
            },
            "t5-small-v1" => new T5Config
            {
                VocabSize = 32128, DModel = 512, DKv = 64, DFf = 2048, NumLayers = 6, NumDecoderLayers = 6, NumHeads = 8,
                FeedForwardProj = "relu", TieWordEmbeddings = true, DropoutRate = 0.1,
                DecoderStartTokenId = 0, PadTokenId = 0, EosTokenId = 1, Architectures = ["T5ForConditionalGeneration"],
            },
            _ => null,
        };
        if (c is null)
        {
            config = null!;
            return false;
        }
        if (vocabSize is { } v)
        {
            c.VocabSize = v;
            c.Validate();
        }
        config = c;
        return true;
    }

    /// <summary>t5_peer.py's T5Config(…).to_hf_json(): gated-gelu, untied, dropout 0, initializer 1.</summary>
    private static T5Config Peer(int vocab, int dModel, int dFf, int dKv, int heads, int layers) => new()
    {
        VocabSize = vocab, DModel = dModel, DFf = dFf, DKv = dKv, NumHeads = heads,
        NumLayers = layers, NumDecoderLayers = layers,
        RelativeAttentionNumBuckets = 32, RelativeAttentionMaxDistance = 128,
        FeedForwardProj = "gated-gelu", TieWordEmbeddings = false, LayerNormEpsilon = 1e-6,
        DecoderStartTokenId = 0, PadTokenId = 0, EosTokenId = 1,
        DropoutRate = 0.0, InitializerFactor = 1.0, IsEncoderDecoder = true,
        Architectures = ["T5ForConditionalGeneration"],
    };
}
