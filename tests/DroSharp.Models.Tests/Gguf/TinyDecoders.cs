using DroSharp.Models.Decoder;
using DroSharp.Models.Gguf;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>
/// DroSharp's own tiny decoders (the <c>&lt;family&gt;-tiny</c> presets) as model directories for the
/// cross-implementation tests, and DroSharp's numbers for them.
/// </summary>
internal static class TinyDecoders
{
    /// <summary>
    /// Writes DIR/PRESET: the preset's config.json, generation_config.json and model.safetensors as DroSharp saves
    /// them, with weights drawn by <see cref="Randomize"/>, and tokenizer files of the preset's 512 ids
    /// (&lt;pad&gt; or &lt;unk&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, as the presets' pad/bos/eos ids): byte-level BPE, or
    /// SentencePiece-style for phi3 (llama.cpp's phi3 vocabulary loader wants &lt;|end|&gt;, Phi-3's own is SentencePiece).
    /// </summary>
    public static string Write(GgufTestFiles files, string preset, ulong seed, Action<DecoderForCausalLM>? edit = null, string? name = null)
    {
        string dir = files.PathFor(name ?? preset);
        var config = DecoderPresets.Get(preset);
        using (var model = new DecoderForCausalLM(config))
        {
            Randomize(model, seed);
            edit?.Invoke(model);
            model.Save(dir);
        }
        if (config.ModelType == "phi3") GgufTestFiles.WriteSentencePieceTokenizer(dir, config.VocabSize, "<|end|>", "<|endoftext|>");
        else GgufTestFiles.WriteByteLevelTokenizer(dir, config.VocabSize);
        return dir;
    }

    /// <summary>
    /// Weights that make a tiny model's predictions far from uniform, so that a wrong layout, scale or mask shows
    /// (the presets' own initialisation, N(0, 0.02²), gives near-uniform next-token distributions): matrices
    /// N(0, 1/fan_in) (activations keep their scale through each projection), norm gains 1 + N(0, 0.2²) (Gemma
    /// stores w of its (1 + w) gain), biases N(0, 0.2²); logits of standard deviation ≈ 3. An untied model: embedding
    /// and LM head N(0, 0.4²). A tied one reads its logits off its input embedding, so a large embedding makes each
    /// token predict itself and greedy decoding repeat one token: there the embedding is N(0, 0.15²) as it enters
    /// the first layer (Gemma multiplies it by √hidden on the way in) and the final norm's gain makes up the scale.
    /// </summary>
    public static void Randomize(DecoderForCausalLM model, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var c = model.Config;
        double sqrtHidden = Math.Sqrt(c.HiddenSize);
        double embedding = !c.TieWordEmbeddings ? 0.4 : 0.15 / c.EmbeddingScale;
        double finalGain = !c.TieWordEmbeddings ? 1 : 3 / (embedding * sqrtHidden);
        foreach (var p in model.Parameters.All)
        {
            string name = p.Name!;
            var span = p.Span;
            double center = 0, std;
            if (p.Shape.Rank == 1)
            {
                std = 0.2;
                double gain = name == "model.norm.weight" ? finalGain : 1;
                if (name.EndsWith("norm.weight", StringComparison.Ordinal)) center = c.NormPlusOne ? gain - 1 : gain;
            }
            else if (name is "model.embed_tokens.weight" or "lm_head.weight") std = embedding;
            else std = 1 / Math.Sqrt(p.Shape[1]);
            for (int i = 0; i < span.Length; i++) span[i] = (float)(center + std * rng.NextGaussian());
        }
    }

    /// <summary>
    /// Rows of random ids in [3, vocab) after the BOS 1 with the given total lengths; as (prompt = [BOS],
    /// completion = the rest) every position after the first is scored.
    /// </summary>
    public static List<(int[] Prompt, int[] Completion)> RandomRows(int vocab, ulong seed, params int[] lengths)
    {
        var rng = new DeterministicRandom(seed);
        return lengths.Select(n => (new[] { 1 }, Enumerable.Range(0, n - 1).Select(_ => 3 + rng.NextInt(vocab - 3)).ToArray())).ToList();
    }

    /// <summary>DroSharp's log p(completion token | prefix) for every row, from one right-padded batch through <see cref="IPolicyModel.Forward"/>.</summary>
    public static double[][] TokenLogProbs(IPolicyModel policy, IReadOnlyList<(int[] Prompt, int[] Completion)> rows)
    {
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        using var batch = policy.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        var lp = policy.Forward(batch).TokenLogProbs;
        return rows.Select((r, i) => Enumerable.Range(0, r.Completion.Length).Select(j => (double)lp[i * batch.CompletionLength + j]).ToArray()).ToArray();
    }

    /// <summary>DroSharp's logits [position][vocab] after every position of <paramref name="tokens"/> (one unpadded row).</summary>
    public static float[][] Logits(DecoderForCausalLM model, int[] tokens)
    {
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        using var batch = new CausalBatch([tokens], [Array.Empty<int>()], model.Tokens.PadId);
        var hidden = model.Model.Forward(batch.InputIds, batch.Positions, 1, batch.KeyMask, batch.RowLengths);
        var logits = model.Logits(Ops.Reshape(hidden, new Shape(tokens.Length, model.Config.HiddenSize)));
        int v = model.Config.VocabSize;
        var all = logits.ToArray();
        return Enumerable.Range(0, tokens.Length).Select(i => all.AsSpan(i * v, v).ToArray()).ToArray();
    }

    /// <summary>log softmax of one row of logits, in double.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        double lse = max + Math.Log(sum);
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = logits[i] - lse;
        return result;
    }

    /// <summary>
    /// Rounds every weight matrix whose rows are whole Q8_0 blocks through Q8_0 and back, as the q8_0 export
    /// stores it (the q/k row permutation moves whole rows, so it does not change the blocks).
    /// </summary>
    public static void RoundMatricesThroughQ8_0(IPolicyModel model)
    {
        foreach (var p in model.Parameters.All)
        {
            if (p.Shape.Rank != 2 || p.Shape.Last % GgufQ8_0.BlockSize != 0) continue;
            var span = p.Span;
            var bytes = new byte[span.Length / GgufQ8_0.BlockSize * GgufQ8_0.BlockBytes];
            GgufQ8_0.Quantize(span, bytes);
            GgufQ8_0.Dequantize(bytes, span);
        }
    }
}
