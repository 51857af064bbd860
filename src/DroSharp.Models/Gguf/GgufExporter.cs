using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Gguf;

/// <summary>
/// Exports a Hugging Face decoder-only model directory (config.json, safetensors weights single or sharded,
/// tokenizer files) to a GGUF file that llama.cpp (and so LLamaSharp) loads and computes exactly as
/// transformers does, following llama.cpp's convert_hf_to_gguf.py: architecture metadata, tensor names,
/// the q/k row permutation of the "llama" and "smollm3" architectures (llama.cpp rotates adjacent pairs,
/// Hugging Face rotates halves; qwen2/qwen3/phi3/gemma use llama.cpp's NEOX rotation and keep HF's rows),
/// Gemma's norm gains stored as 1 + w, tied output heads left out (llama.cpp reuses token_embd), RoPE
/// scaling (linear, yarn, llama3 as a <c>rope_freqs</c> tensor, Phi-3 longrope as
/// <c>rope_factors_long/short</c>) and the tokenizer (see <see cref="GgufTokenizerExport"/>).
/// A model llama.cpp cannot represent faithfully (a family, RoPE kind, sliding-window layout, NoPE layout,
/// bias or attention scale it has no place for) is refused with a <see cref="GgufExportException"/> naming
/// the config key, instead of writing a file that loads but computes something else.
/// Tensors stream one at a time from the safetensors files to the GGUF file; the write is atomic.
/// </summary>
public static class GgufExporter
{
    /// <summary>config.json model_type → llama.cpp architecture.</summary>
    public static readonly IReadOnlyDictionary<string, string> SupportedModelTypes = new Dictionary<string, string>
    {
        ["llama"] = "llama",
        ["mistral"] = "llama",
        ["qwen2"] = "qwen2",
        ["qwen3"] = "qwen3",
        ["phi3"] = "phi3",
        ["gemma"] = "gemma",
        ["gemma2"] = "gemma2",
        ["gemma3_text"] = "gemma3",
        ["smollm3"] = "smollm3",
    };

    /// <summary>The <c>tokenizer.ggml.pre</c> names recognised from a byte-level BPE tokenizer.json's pre-tokenizer.</summary>
    public static IReadOnlyList<string> KnownPreTokenizers => GgufTokenizerExport.KnownPreTokenizers;

    public static GgufExportResult Export(string modelDirectory, string outputPath, GgufFileType fileType) =>
        Export(modelDirectory, outputPath, new GgufExportOptions { FileType = fileType });

    public static GgufExportResult Export(string modelDirectory, string outputPath, GgufExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        options ??= new GgufExportOptions();
        if (!Enum.IsDefined(options.FileType)) throw new ArgumentException($"unknown file type {options.FileType}", nameof(options));
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"{modelDirectory}: no such model directory");

        var config = HfDecoderConfig.Load(Path.Combine(modelDirectory, CheckpointDirectory.ConfigFileName));
        var plan = Plan(config);
        using var checkpoint = CheckpointDirectory.Open(modelDirectory);
        var writer = new GgufWriter();

        string name = options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory)));
        writer.AddString("general.architecture", plan.Arch);
        writer.AddString("general.name", name);
        writer.AddUInt32("general.file_type", (uint)options.FileType);
        writer.AddUInt32("general.quantization_version", 2);
        AddArchitectureMetadata(writer, config, plan);

        var tok = GgufTokenizerExport.Add(writer, options.TokenizerDirectory ?? modelDirectory, config, options.TokenizerPre);

        bool tied = AddTensors(writer, checkpoint, config, plan, options);
        writer.Write(outputPath);
        return new GgufExportResult(Path.GetFullPath(outputPath), plan.Arch, options.FileType, writer.TensorCount,
            new FileInfo(outputPath).Length, tied, tok.Model, tok.Pre, tok.HasChatTemplate);
    }

    /// <summary>What the family needs: llama.cpp's architecture and the switches the export applies.</summary>
    private sealed record ExportPlan(
        string Arch,
        bool PermuteQueryKey,
        bool GemmaNorms,
        bool SandwichNorms,
        bool QkNorm,
        bool FusedPhi3,
        string[] AllowedBiases,
        string[] RequiredBiases,
        RopePlan Rope,
        int? SlidingWindowPattern);

    private sealed record RopePlan(string Kind, double Factor, int OriginalContext, double BetaFast, double BetaSlow,
        double AttnFactor, float[]? Llama3Factors, float[]? LongFactors, float[]? ShortFactors);

    private static GgufExportException Refuse(HfDecoderConfig c, string key, string message) => new(c.Path, key, message);

    private static ExportPlan Plan(HfDecoderConfig c)
    {
        string arch = SupportedModelTypes[c.ModelType]; // HfDecoderConfig.Load refuses any other model_type, naming it
        bool gemma = arch is "gemma" or "gemma2" or "gemma3";

        string act = c.HiddenAct ?? (gemma ? "gelu_pytorch_tanh" : "silu");
        if (gemma && act is not ("gelu_pytorch_tanh" or "gelu_tanh" or "gelu_new"))
            throw Refuse(c, "hidden_activation", $"\"{act}\": llama.cpp's Gemma uses the tanh approximation of GELU (gelu_pytorch_tanh)");
        if (!gemma && act != "silu")
            throw Refuse(c, "hidden_act", $"\"{act}\": llama.cpp's {arch} architecture uses SiLU (SwiGLU feed-forward)");

        // Sliding windows: llama.cpp runs them for gemma2 (every other layer) and gemma3 (a period) only.
        bool anySliding = c.LayerTypes?.Contains("sliding_attention") ?? false;
        int? pattern = null;
        switch (arch)
        {
            case "llama" when c.ModelType == "mistral" && c.SlidingWindow is int w && w < c.MaxPositionEmbeddings:
                throw Refuse(c, "sliding_window", $"{w}: llama.cpp's llama architecture has no sliding-window attention, so positions past {w} would attend differently");
            case "qwen2" or "qwen3" or "smollm3" when anySliding:
                throw Refuse(c, "layer_types", $"sliding-window layers (use_sliding_window with sliding_window {c.SlidingWindow}): llama.cpp's {arch} architecture has no sliding-window attention");
            case "phi3" when c.SlidingWindow is int w && w < c.MaxPositionEmbeddings:
                throw Refuse(c, "sliding_window", $"{w}: llama.cpp disables Phi-3's sliding window (\"Phi SWA is currently disabled\"), so positions past {w} would attend differently");
            case "gemma2":
                pattern = SlidingPattern(c, fixedPeriod: 2);
                break;
            case "gemma3":
                pattern = SlidingPattern(c, fixedPeriod: null);
                break;
        }

        if (arch == "smollm3")
        {
            // llama.cpp: layer il uses RoPE iff (il + 1) % 4 != 0 (n_no_rope_layer_step = 4, fixed).
            for (int i = 0; i < c.NumHiddenLayers; i++)
            {
                bool hf = c.NoRopeLayers is null ? (i + 1) % 4 != 0 : c.NoRopeLayers[i] != 0;
                if (hf != ((i + 1) % 4 != 0))
                    throw Refuse(c, "no_rope_layers", $"layer {i} {(hf ? "uses" : "skips")} RoPE, but llama.cpp's smollm3 skips RoPE exactly in every 4th layer (3, 7, 11, …)");
            }
        }

        if (gemma)
        {
            // llama.cpp scales queries by 1/√head_dim, except Gemma 2 27B (46 layers) and Gemma 3 27B (62 layers): 1/√(hidden/heads).
            double llamaCpp = (arch == "gemma2" && c.NumHiddenLayers == 46) || (arch == "gemma3" && c.NumHiddenLayers == 62)
                ? c.HiddenSize / c.NumAttentionHeads : c.HeadDim;
            double hf = arch == "gemma" ? c.HeadDim : c.QueryPreAttnScalar ?? c.HeadDim;
            if (hf != llamaCpp)
                throw Refuse(c, "query_pre_attn_scalar", $"{hf}: llama.cpp's {arch} scales attention by 1/√{llamaCpp} for this model ({c.NumHiddenLayers} layers) and has no key to change it");
            if (arch == "gemma3" && c.FinalLogitSoftcapping is double fc)
                throw Refuse(c, "final_logit_softcapping", $"{fc}: llama.cpp's gemma3 applies no final logit soft-capping when layers have a sliding window");
            if (arch == "gemma3" && c.AttnLogitSoftcapping is double ac)
                throw Refuse(c, "attn_logit_softcapping", $"{ac}: llama.cpp's gemma3 has no attention logit soft-capping");
            if (arch == "gemma" && (c.FinalLogitSoftcapping is not null || c.AttnLogitSoftcapping is not null))
                throw Refuse(c, "final_logit_softcapping", "llama.cpp's gemma has no soft-capping");
        }
        if (c.PartialRotaryFactor is <= 0 or > 1 || c.RotaryDim % 2 != 0)
            throw Refuse(c, "partial_rotary_factor", $"{c.PartialRotaryFactor} gives {c.RotaryDim} rotary dimensions per head (an even number in 2…head_dim is needed)");
        if (c.RotaryDim != c.HeadDim && arch != "phi3")
            throw Refuse(c, "partial_rotary_factor", $"partial rotary embeddings are exported for phi3 only");

        string[] allowed = arch switch
        {
            "llama" => ["q", "k", "v", "o", "gate", "up", "down"],
            "qwen2" => ["q", "k", "v"],
            _ => [],
        };
        string[] required = arch == "qwen2" ? ["q", "k", "v"] : [];
        if (c.AttentionBias && !allowed.Contains("q"))
            throw Refuse(c, "attention_bias", $"true: llama.cpp's {arch} architecture has no attention bias tensors");
        if (c.MlpBias && !allowed.Contains("gate"))
            throw Refuse(c, "mlp_bias", $"true: llama.cpp's {arch} architecture has no feed-forward bias tensors");

        return new ExportPlan(arch,
            PermuteQueryKey: arch is "llama" or "smollm3",
            GemmaNorms: gemma,
            SandwichNorms: arch is "gemma2" or "gemma3",
            QkNorm: arch is "qwen3" or "gemma3",
            FusedPhi3: arch == "phi3",
            AllowedBiases: allowed,
            RequiredBiases: required,
            Rope: PlanRope(c, arch),
            SlidingWindowPattern: pattern);
    }

    /// <summary>
    /// The period p with layer i sliding iff i mod p &lt; p − 1 (llama.cpp's set_swa_pattern, and transformers'
    /// default layer_types), checked against config's layer_types; <paramref name="fixedPeriod"/> when llama.cpp
    /// does not read the period from the file.
    /// </summary>
    private static int SlidingPattern(HfDecoderConfig c, int? fixedPeriod)
    {
        if (c.SlidingWindow is not int window || window <= 0)
            throw Refuse(c, "sliding_window", $"{c.ModelType} needs a positive sliding_window (llama.cpp's {c.ModelType} always has sliding layers)");
        int n = c.NumHiddenLayers;
        string[] types = c.LayerTypes ?? Enumerable.Range(0, n)
            .Select(i => (i + 1) % (fixedPeriod ?? 6) != 0 ? "sliding_attention" : "full_attention").ToArray();
        bool Matches(int p) => Enumerable.Range(0, n).All(i => (types[i] == "sliding_attention") == (i % p < p - 1));
        if (fixedPeriod is int f)
            return Matches(f) ? f : throw Refuse(c, "layer_types",
                $"[{string.Join(", ", types)}]: llama.cpp's {c.ModelType} slides exactly the layers i with i mod {f} < {f - 1}");
        for (int p = 1; p <= n + 1; p++)
            if (Matches(p)) return p;
        throw Refuse(c, "layer_types", $"[{string.Join(", ", types)}] is not periodic (sliding, …, sliding, full) as llama.cpp's sliding_window_pattern describes");
    }

    private static RopePlan PlanRope(HfDecoderConfig c, string arch)
    {
        var none = new RopePlan("none", 1, c.MaxPositionEmbeddings, 32, 1, 1, null, null, null);
        if (c.RopeScaling is not { } rs) return none;
        string p = c.Path;
        string kind = HfJson.String(rs, "rope_type", p) ?? HfJson.String(rs, "type", p) ?? "default";
        string key = rs.TryGetProperty("rope_type", out _) ? "rope_scaling.rope_type" : "rope_scaling.type";
        double Factor() => HfJson.Double(rs, "factor", p) is double f && f > 0 ? f : throw Refuse(c, "rope_scaling.factor", "a positive factor is required");
        switch (kind)
        {
            case "default":
                return none;
            case "linear" when arch is "llama" or "qwen2" or "qwen3" or "smollm3" or "gemma3":
                return none with { Kind = "linear", Factor = Factor() };
            case "llama3" when arch == "llama":
            {
                // transformers' _compute_llama3_parameters as a per-frequency divisor (llama.cpp's rope_freqs).
                double factor = Factor();
                double low = HfJson.Double(rs, "low_freq_factor", p) ?? throw Refuse(c, "rope_scaling.low_freq_factor", "is required for llama3 RoPE");
                double high = HfJson.Double(rs, "high_freq_factor", p) ?? throw Refuse(c, "rope_scaling.high_freq_factor", "is required for llama3 RoPE");
                int old = HfJson.Int(rs, "original_max_position_embeddings", p) ?? throw Refuse(c, "rope_scaling.original_max_position_embeddings", "is required for llama3 RoPE");
                if (high == low) throw Refuse(c, "rope_scaling.high_freq_factor", "must differ from low_freq_factor");
                int dim = c.RotaryDim;
                var factors = new float[dim / 2];
                for (int i = 0; i < factors.Length; i++)
                {
                    float invFreq = 1f / MathF.Pow((float)c.RopeTheta, (2 * i) / (float)dim);
                    double wavelen = 2 * Math.PI / invFreq;
                    if (wavelen < old / high) factors[i] = 1f;
                    else if (wavelen > old / low) factors[i] = (float)factor;
                    else
                    {
                        double smooth = (old / wavelen - low) / (high - low);
                        factors[i] = (float)(1 / ((1 - smooth) / factor + smooth));
                    }
                }
                return none with { Kind = "llama3", Llama3Factors = factors };
            }
            case "yarn" when arch is "llama" or "qwen2" or "qwen3":
            {
                foreach (string k in new[] { "attention_factor", "mscale", "mscale_all_dim" })
                    if (!HfJson.IsAbsent(rs, k, out _))
                        throw Refuse(c, "rope_scaling." + k, "llama.cpp derives YaRN's attention factor from the scaling factor (0.1·ln s + 1); an explicit one is not exported");
                if (HfJson.Bool(rs, "truncate", p) == false)
                    throw Refuse(c, "rope_scaling.truncate", "false: llama.cpp rounds YaRN's correction range outward (truncate = true)");
                // transformers 4.55: with original_max_position_embeddings the factor is max_position_embeddings / it.
                int? orig = HfJson.Int(rs, "original_max_position_embeddings", p);
                double factor = orig is int o ? (double)c.MaxPositionEmbeddings / o : Factor();
                return none with
                {
                    Kind = "yarn", Factor = factor, OriginalContext = orig ?? c.MaxPositionEmbeddings,
                    BetaFast = HfJson.Double(rs, "beta_fast", p) is double bf and not 0 ? bf : 32,
                    BetaSlow = HfJson.Double(rs, "beta_slow", p) is double bs and not 0 ? bs : 1,
                };
            }
            case "longrope" or "su" when arch == "phi3":
            {
                int orig = c.OriginalMaxPositionEmbeddings ?? throw Refuse(c, "original_max_position_embeddings", "is required for Phi-3 longrope");
                double scale = (double)c.MaxPositionEmbeddings / orig;
                double attn = HfJson.Double(rs, "attention_factor", p)
                    ?? (scale > 1 ? Math.Sqrt(1 + Math.Log(scale) / Math.Log(orig)) : 1.0);
                float[] Factors(string k)
                {
                    if (HfJson.IsAbsent(rs, k, out var a) || a.ValueKind != JsonValueKind.Array)
                        throw Refuse(c, "rope_scaling." + k, "a list of factors is required for longrope");
                    var f = a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? (float)e.GetDouble()
                        : throw Refuse(c, "rope_scaling." + k, $"must hold numbers, found {HfJson.Show(e)}")).ToArray();
                    if (f.Length != c.RotaryDim / 2)
                        throw Refuse(c, "rope_scaling." + k, $"has {f.Length} factors, rotary dimension {c.RotaryDim} needs {c.RotaryDim / 2}");
                    return f;
                }
                return none with { Kind = "longrope", OriginalContext = orig, AttnFactor = attn, LongFactors = Factors("long_factor"), ShortFactors = Factors("short_factor") };
            }
            case "dynamic":
                throw Refuse(c, key, "\"dynamic\" (dynamic NTK) RoPE has no llama.cpp equivalent");
            default:
                throw Refuse(c, key, $"\"{kind}\" RoPE scaling is not exported for llama.cpp's {arch} architecture");
        }
    }

    private static void AddArchitectureMetadata(GgufWriter w, HfDecoderConfig c, ExportPlan plan)
    {
        string a = plan.Arch;
        w.AddUInt32($"{a}.vocab_size", (uint)c.VocabSize);
        w.AddUInt32($"{a}.context_length", (uint)c.MaxPositionEmbeddings);
        w.AddUInt32($"{a}.embedding_length", (uint)c.HiddenSize);
        w.AddUInt32($"{a}.block_count", (uint)c.NumHiddenLayers);
        w.AddUInt32($"{a}.feed_forward_length", (uint)c.IntermediateSize);
        w.AddUInt32($"{a}.attention.head_count", (uint)c.NumAttentionHeads);
        w.AddUInt32($"{a}.attention.head_count_kv", (uint)c.NumKeyValueHeads);
        w.AddUInt32($"{a}.attention.key_length", (uint)c.HeadDim);
        w.AddUInt32($"{a}.attention.value_length", (uint)c.HeadDim);
        w.AddFloat32($"{a}.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        w.AddUInt32($"{a}.rope.dimension_count", (uint)c.RotaryDim);
        w.AddFloat32($"{a}.rope.freq_base", (float)c.RopeTheta);

        var rope = plan.Rope;
        switch (rope.Kind)
        {
            case "linear":
                w.AddString($"{a}.rope.scaling.type", "linear");
                w.AddFloat32($"{a}.rope.scaling.factor", (float)rope.Factor);
                break;
            case "yarn":
                w.AddString($"{a}.rope.scaling.type", "yarn");
                w.AddFloat32($"{a}.rope.scaling.factor", (float)rope.Factor);
                w.AddUInt32($"{a}.rope.scaling.original_context_length", (uint)rope.OriginalContext);
                w.AddFloat32($"{a}.rope.scaling.yarn_beta_fast", (float)rope.BetaFast);
                w.AddFloat32($"{a}.rope.scaling.yarn_beta_slow", (float)rope.BetaSlow);
                break;
            case "longrope":
                w.AddFloat32($"{a}.rope.scaling.attn_factor", (float)rope.AttnFactor);
                break;
        }
        if (a == "phi3")
        {
            if (c.OriginalMaxPositionEmbeddings is int orig) w.AddUInt32($"{a}.rope.scaling.original_context_length", (uint)orig);
            w.AddUInt32($"{a}.attention.sliding_window", (uint)(c.SlidingWindow ?? 0));
        }
        if (a == "gemma2")
        {
            w.AddUInt32($"{a}.attention.sliding_window", (uint)c.SlidingWindow!.Value);
            if (c.AttnLogitSoftcapping is double ac) w.AddFloat32($"{a}.attn_logit_softcapping", (float)ac);
            if (c.FinalLogitSoftcapping is double fc) w.AddFloat32($"{a}.final_logit_softcapping", (float)fc);
        }
        if (a == "gemma3")
        {
            w.AddUInt32($"{a}.attention.sliding_window", (uint)c.SlidingWindow!.Value);
            w.AddUInt32($"{a}.attention.sliding_window_pattern", (uint)plan.SlidingWindowPattern!.Value);
            w.AddFloat32($"{a}.rope.freq_base_swa", (float)(c.RopeLocalBaseFreq ?? 10000.0));
        }
    }

    private static readonly Regex LayerName = new(@"^model\.layers\.(\d+)\.(.+)$", RegexOptions.CultureInvariant);

    /// <summary>One output tensor: its GGUF name, shape and how its values come from the checkpoint.</summary>
    private sealed record Planned(string GgufName, string Source, long[] Shape, Func<float[], float[]>? Transform);

    /// <returns>Whether the output head is tied to the embedding (no output.weight written).</returns>
    private static bool AddTensors(GgufWriter writer, CheckpointDirectory checkpoint, HfDecoderConfig c, ExportPlan plan, GgufExportOptions options)
    {
        int H = c.NumAttentionHeads, KV = c.NumKeyValueHeads, hd = c.HeadDim, d = c.HiddenSize, ff = c.IntermediateSize;
        string loc = checkpoint.Location;
        var planned = new List<Planned>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool hasHead = checkpoint.Contains("lm_head.weight");
        bool tied = c.TieWordEmbeddings ?? !hasHead;
        if (!tied && !hasHead)
            throw new GgufExportException(loc, "lm_head.weight", "tie_word_embeddings is false but the checkpoint has no lm_head.weight");

        Func<float[], float[]>? NormTransform(string hfName) =>
            plan.GemmaNorms && hfName.EndsWith("norm.weight", StringComparison.Ordinal) ? AddOne : null;

        foreach (string hfName in checkpoint.TensorNames)
        {
            if (hfName.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) continue;
            if (hfName == "lm_head.weight" && tied) continue;
            (string Name, long[] Shape, Func<float[], float[]>? T)? m = hfName switch
            {
                "model.embed_tokens.weight" => ("token_embd.weight", [c.VocabSize, d], null),
                "model.norm.weight" => ("output_norm.weight", [d], NormTransform(hfName)),
                "lm_head.weight" => ("output.weight", [c.VocabSize, d], null),
                _ => MapLayer(hfName),
            };
            if (m is null)
                throw new GgufExportException(loc, hfName, $"llama.cpp's {plan.Arch} architecture has no tensor for this weight; refusing to drop it");
            var (gguf, shape, transform) = m.Value;
            checkpoint.TryGetInfo(hfName, out var info);
            if (!info.Shape.SequenceEqual(shape))
                throw new GgufExportException(loc, hfName, $"shape {info.ShapeString}, but config.json implies [{string.Join(", ", shape)}]");
            if (!info.Dtype.IsReadableAsFloat32())
                throw new GgufExportException(loc, hfName, $"dtype {info.Dtype} is not a floating-point weight");
            if (!seen.Add(gguf)) throw new GgufExportException(loc, hfName, $"a second tensor maps to {gguf}");
            planned.Add(new Planned(gguf, hfName, shape, transform));
        }

        (string, long[], Func<float[], float[]>?)? MapLayer(string hfName)
        {
            var match = LayerName.Match(hfName);
            if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i >= c.NumHiddenLayers)
                return null;
            string rest = match.Groups[2].Value, blk = $"blk.{i}.";
            bool permute = plan.PermuteQueryKey && options.PermuteQueryKey;
            Func<float[], float[]>? Permute(int heads, int rowLength) => permute ? v => PermuteRows(v, heads, hd, rowLength) : null;
            (string, long[], Func<float[], float[]>?)? Bias(string kind, string gguf, long size, Func<float[], float[]>? t = null) =>
                plan.AllowedBiases.Contains(kind) ? (blk + gguf + ".bias", [size], t) : null;
            return rest switch
            {
                "input_layernorm.weight" => (blk + "attn_norm.weight", [d], NormTransform(rest)),
                "post_attention_layernorm.weight" => (blk + (plan.SandwichNorms ? "post_attention_norm.weight" : "ffn_norm.weight"), [d], NormTransform(rest)),
                "pre_feedforward_layernorm.weight" when plan.SandwichNorms => (blk + "ffn_norm.weight", [d], NormTransform(rest)),
                "post_feedforward_layernorm.weight" when plan.SandwichNorms => (blk + "post_ffw_norm.weight", [d], NormTransform(rest)),
                "self_attn.q_norm.weight" when plan.QkNorm => (blk + "attn_q_norm.weight", [hd], NormTransform(rest)),
                "self_attn.k_norm.weight" when plan.QkNorm => (blk + "attn_k_norm.weight", [hd], NormTransform(rest)),
                "self_attn.q_proj.weight" when !plan.FusedPhi3 => (blk + "attn_q.weight", [H * hd, d], Permute(H, d)),
                "self_attn.k_proj.weight" when !plan.FusedPhi3 => (blk + "attn_k.weight", [KV * hd, d], Permute(KV, d)),
                "self_attn.v_proj.weight" when !plan.FusedPhi3 => (blk + "attn_v.weight", [KV * hd, d], null),
                "self_attn.o_proj.weight" => (blk + "attn_output.weight", [d, H * hd], null),
                "self_attn.qkv_proj.weight" when plan.FusedPhi3 => (blk + "attn_qkv.weight", [(H + 2 * KV) * hd, d], null),
                "self_attn.q_proj.bias" => Bias("q", "attn_q", H * hd, Permute(H, 1)),
                "self_attn.k_proj.bias" => Bias("k", "attn_k", KV * hd, Permute(KV, 1)),
                "self_attn.v_proj.bias" => Bias("v", "attn_v", KV * hd),
                "self_attn.o_proj.bias" => Bias("o", "attn_output", d),
                "mlp.gate_proj.weight" when !plan.FusedPhi3 => (blk + "ffn_gate.weight", [ff, d], null),
                "mlp.up_proj.weight" when !plan.FusedPhi3 => (blk + "ffn_up.weight", [ff, d], null),
                "mlp.gate_up_proj.weight" when plan.FusedPhi3 => (blk + "ffn_up.weight", [2 * ff, d], null),
                "mlp.down_proj.weight" => (blk + "ffn_down.weight", [d, ff], null),
                "mlp.gate_proj.bias" => Bias("gate", "ffn_gate", ff),
                "mlp.up_proj.bias" => Bias("up", "ffn_up", ff),
                "mlp.down_proj.bias" => Bias("down", "ffn_down", d),
                _ => null,
            };
        }

        // Everything llama.cpp requires must be there (a missing tensor fails its load).
        var required = new List<string> { "token_embd.weight", "output_norm.weight" };
        if (!tied) required.Add("output.weight");
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string b = $"blk.{i}.";
            required.AddRange(new[] { "attn_norm.weight", "attn_output.weight", "ffn_norm.weight", "ffn_down.weight", "ffn_up.weight" }.Select(s => b + s));
            required.AddRange((plan.FusedPhi3 ? new[] { "attn_qkv.weight" } : ["attn_q.weight", "attn_k.weight", "attn_v.weight", "ffn_gate.weight"]).Select(s => b + s));
            if (plan.SandwichNorms) required.AddRange(new[] { "post_attention_norm.weight", "post_ffw_norm.weight" }.Select(s => b + s));
            if (plan.QkNorm) required.AddRange(new[] { "attn_q_norm.weight", "attn_k_norm.weight" }.Select(s => b + s));
            required.AddRange(plan.RequiredBiases.Select(k => b + (k switch { "q" => "attn_q", "k" => "attn_k", _ => "attn_v" }) + ".bias"));
        }
        foreach (string r in required)
            if (!seen.Contains(r))
                throw new GgufExportException(loc, r, $"the checkpoint has no weight for llama.cpp's {r} (is config.json for this checkpoint?)");

        var rope = plan.Rope;
        if (rope.Llama3Factors is { } lf) writer.AddTensor("rope_freqs.weight", [lf.Length], GgufTensorType.F32, lf);
        if (rope.LongFactors is { } lg) writer.AddTensor("rope_factors_long.weight", [lg.Length], GgufTensorType.F32, lg);
        if (rope.ShortFactors is { } sh) writer.AddTensor("rope_factors_short.weight", [sh.Length], GgufTensorType.F32, sh);

        foreach (var p in planned)
        {
            var type = TensorType(options.FileType, p.Shape);
            writer.AddTensor(p.GgufName, p.Shape, type, new CheckpointRows(checkpoint, p.Source, p.Shape, p.Transform).Read);
        }
        return tied;
    }

    /// <summary>convert_hf_to_gguf.py's choice: vectors stay F32; matrices take the file type, Q8_0 falling back to F16 for rows not a multiple of 32.</summary>
    private static GgufTensorType TensorType(GgufFileType fileType, long[] shape)
    {
        if (shape.Length <= 1) return GgufTensorType.F32;
        return fileType switch
        {
            GgufFileType.F32 => GgufTensorType.F32,
            GgufFileType.F16 => GgufTensorType.F16,
            GgufFileType.BF16 => GgufTensorType.BF16,
            _ => shape[^1] % GgufQ8_0.BlockSize == 0 ? GgufTensorType.Q8_0 : GgufTensorType.F16,
        };
    }

    private static float[] AddOne(float[] v)
    {
        for (int i = 0; i < v.Length; i++) v[i] += 1f;
        return v;
    }

    /// <summary>
    /// convert_hf_to_gguf.py's LlamaModel.permute: rows [heads, 2, headDim/2] → [heads, headDim/2, 2], i.e. output
    /// row h·headDim + 2i + j is input row h·headDim + j·headDim/2 + i, turning Hugging Face's rotate-half layout
    /// into the adjacent pairs llama.cpp's "llama" RoPE rotates.
    /// </summary>
    internal static float[] PermuteRows(float[] v, int heads, int headDim, int rowLength)
    {
        if (v.Length != (long)heads * headDim * rowLength || headDim % 2 != 0)
            throw new ArgumentException($"cannot permute {v.Length} values as {heads} heads of {headDim} rows of {rowLength}");
        var result = new float[v.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                {
                    int src = h * headDim + j * half + i, dst = h * headDim + 2 * i + j;
                    Array.Copy(v, (long)src * rowLength, result, (long)dst * rowLength, rowLength);
                }
        return result;
    }

    /// <summary>
    /// Rows of one checkpoint tensor for the writer: read and transformed when the first rows are asked for,
    /// released after the last, so only one tensor is in memory at a time.
    /// </summary>
    private sealed class CheckpointRows(CheckpointDirectory checkpoint, string name, long[] shape, Func<float[], float[]>? transform)
    {
        private float[]? _values;

        public void Read(long firstRow, Span<float> destination)
        {
            long rowLength = shape.Length == 0 ? 1 : shape[^1];
            if (firstRow == 0 || _values is null) _values = Load();
            long start = firstRow * rowLength;
            _values.AsSpan(checked((int)start), destination.Length).CopyTo(destination);
            if (start + destination.Length == _values.LongLength) _values = null;
        }

        private float[] Load()
        {
            using var tensor = checkpoint.ReadTensor(name);
            float[] values = tensor.Span.ToArray();
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i]))
                    throw new GgufExportException(checkpoint.Location, name, $"element {i} is {values[i]}: refusing to export a non-finite weight");
            return transform is null ? values : transform(values);
        }
    }
}
