using DroSharp.Models.T5;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// The shape of the arena's T5 (v1.1 style: gated-GELU, untied head, dropout off). The vocabulary comes
/// from the word-level tokenizer trained on the task.
/// </summary>
public sealed record ModelSize
{
    public int DModel { get; init; } = 64;
    public int DFf { get; init; } = 128;
    public int DKv { get; init; } = 16;
    public int Heads { get; init; } = 4;
    public int EncoderLayers { get; init; } = 2;
    public int DecoderLayers { get; init; } = 2;

    public T5Config ToConfig(int vocabSize, int padId, int eosId)
    {
        var config = new T5Config
        {
            VocabSize = vocabSize, DModel = DModel, DFf = DFf, DKv = DKv, NumHeads = Heads,
            NumLayers = EncoderLayers, NumDecoderLayers = DecoderLayers,
            RelativeAttentionNumBuckets = 32, RelativeAttentionMaxDistance = 128,
            FeedForwardProj = "gated-gelu", TieWordEmbeddings = false, DropoutRate = 0.0,
            PadTokenId = padId, EosTokenId = eosId, DecoderStartTokenId = padId,
            Architectures = ["T5ForConditionalGeneration"],
        };
        config.Validate();
        return config;
    }

    public void Validate()
    {
        if (DModel < 4 || DFf < 4 || DKv < 1 || Heads < 1 || EncoderLayers < 1 || DecoderLayers < 1)
            throw new ArgumentException($"model size d_model {DModel}, d_ff {DFf}, d_kv {DKv}, heads {Heads}, layers {EncoderLayers}+{DecoderLayers}: every dimension must be positive (d_model, d_ff ≥ 4)");
    }

    public override string ToString() => $"d_model {DModel}, d_ff {DFf}, {Heads} heads × d_kv {DKv}, {EncoderLayers}+{DecoderLayers} layers";
}
