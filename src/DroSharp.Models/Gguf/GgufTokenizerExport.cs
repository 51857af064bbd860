using System.Text.Json;
using System.Text.RegularExpressions;

namespace DroSharp.Models.Gguf;

/// <summary>
/// Turns a Hugging Face tokenizer (<c>tokenizer.json</c>, <c>tokenizer_config.json</c>, a chat template) into
/// llama.cpp's <c>tokenizer.*</c> metadata, as convert_hf_to_gguf.py does:
/// <list type="bullet">
/// <item>byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM): <c>tokenizer.ggml.model = "gpt2"</c>, tokens, token types,
/// merges as "a b" strings, and <c>tokenizer.ggml.pre</c>, the name of llama.cpp's pre-tokenizer;</item>
/// <item>SentencePiece-style BPE with byte fallback (Llama 2, Mistral, Phi-3, Gemma): <c>"llama"</c>, pieces with
/// scores −(merge rank), token types with BYTE for <c>&lt;0xXX&gt;</c> pieces, and <c>add_space_prefix</c>.</item>
/// </list>
/// convert_hf_to_gguf.py picks <c>tokenizer.ggml.pre</c> by hashing the ids HF's tokenizer gives for a test
/// string. We instead recognise the pre-tokenizer's definition in tokenizer.json (its split regex and
/// ByteLevel/Digits steps), which is what those names stand for in llama.cpp; an unknown definition is refused
/// (the caller can name one with <see cref="GgufExportOptions.TokenizerPre"/>).
/// Ids missing below the model's vocab_size become unused "[PAD…]" tokens, as convert_hf_to_gguf.py writes them.
/// </summary>
internal static class GgufTokenizerExport
{
    // llama.cpp token types (llama_token_type).
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6;

    // The split regexes of the pre-tokenizers our families use, as tokenizer.json spells them.
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly IReadOnlyList<string> KnownPreTokenizers = ["gpt-2", "llama-bpe", "qwen2", "smollm"];

    public sealed record Result(string Model, string? Pre, int TokenCount, int MergeCount, bool HasChatTemplate);

    public static Result Add(GgufWriter w, string directory, HfDecoderConfig config, string? preOverride)
    {
        string path = System.IO.Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path))
            throw new GgufExportException(path, null,
                "no tokenizer.json: llama.cpp needs the vocabulary in the GGUF file (copy the tokenizer files into the model directory or set TokenizerDirectory)");
        using var doc = HfJson.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || HfJson.IsAbsent(root, "model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new GgufExportException(path, "model", "tokenizer.json has no model object");
        string type = HfJson.String(model, "type", path) ?? (model.TryGetProperty("merges", out _) ? "BPE" : "");
        if (type != "BPE")
            throw new GgufExportException(path, "model.type",
                $"\"{type}\" tokenizers are not exported: llama.cpp's \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece BPE with byte fallback) vocabularies are");
        bool byteFallback = HfJson.Bool(model, "byte_fallback", path) ?? false;

        var vocab = ReadVocab(model, path);
        var merges = ReadMerges(model, path);
        var added = ReadAddedTokens(root, path);
        foreach (var a in added) vocab[a.Id] = a.Content;
        int maxId = vocab.Count == 0 ? -1 : vocab.Keys.Max();
        if (maxId >= config.VocabSize)
            throw new GgufExportException(path, "model.vocab",
                $"token id {maxId} ({vocab[maxId]}) is not below the model's vocab_size {config.VocabSize} in {config.Path}");

        var configPath = System.IO.Path.Combine(directory, "tokenizer_config.json");
        JsonDocument? tokConfig = File.Exists(configPath) ? HfJson.Parse(configPath) : null;
        try
        {
            var tc = tokConfig?.RootElement;
            var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var a in added) byContent.TryAdd(a.Content, a.Id);
            foreach (var (id, tok) in vocab) byContent.TryAdd(tok, id);

            Result result;
            if (byteFallback) result = AddSentencePiece(w, path, root, vocab, merges, added, config.VocabSize);
            else result = AddByteLevel(w, path, root, vocab, merges, added, config.VocabSize, preOverride);

            AddSpecialTokens(w, configPath, tc, byContent, root, config);
            string? template = ChatTemplate(directory, configPath, tc);
            if (template is not null) w.AddString("tokenizer.chat_template", template);
            return result with { HasChatTemplate = template is not null };
        }
        finally
        {
            tokConfig?.Dispose();
        }
    }

    private sealed record AddedToken(int Id, string Content, bool Special);

    private static Dictionary<int, string> ReadVocab(JsonElement model, string path)
    {
        if (HfJson.IsAbsent(model, "vocab", out var v) || v.ValueKind != JsonValueKind.Object)
            throw new GgufExportException(path, "model.vocab", "must be an object of token → id");
        var vocab = new Dictionary<int, string>();
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new GgufExportException(path, $"model.vocab.{p.Name}", $"the id must be a non-negative integer, found {HfJson.Show(p.Value)}");
            if (!vocab.TryAdd(id, p.Name))
                throw new GgufExportException(path, $"model.vocab.{p.Name}", $"id {id} is also {vocab[id]}");
        }
        return vocab;
    }

    /// <summary>Merges as "a b" strings; the list-of-pairs form has its spaces written as U+0120 … as gguf-py does (space + 256).</summary>
    private static List<string> ReadMerges(JsonElement model, string path)
    {
        var merges = new List<string>();
        if (HfJson.IsAbsent(model, "merges", out var m)) return merges;
        if (m.ValueKind != JsonValueKind.Array) throw new GgufExportException(path, "model.merges", "must be a list");
        int i = 0;
        foreach (var e in m.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String) merges.Add(e.GetString()!);
            else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
                merges.Add(string.Join(' ', e.EnumerateArray().Select(x => x.GetString()!.Replace(' ', (char)(' ' + 256)))));
            else throw new GgufExportException(path, $"model.merges[{i}]", $"must be \"a b\" or [\"a\", \"b\"], found {HfJson.Show(e)}");
            i++;
        }
        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var list = new List<AddedToken>();
        if (HfJson.IsAbsent(root, "added_tokens", out var a)) return list;
        if (a.ValueKind != JsonValueKind.Array) throw new GgufExportException(path, "added_tokens", "must be a list");
        int i = 0;
        foreach (var e in a.EnumerateArray())
        {
            string key = $"added_tokens[{i++}]";
            if (e.ValueKind != JsonValueKind.Object) throw new GgufExportException(path, key, "must be an object");
            int id = HfJson.Int(e, "id", path) ?? throw new GgufExportException(path, key + ".id", "is required");
            if (id < 0) throw new GgufExportException(path, key + ".id", "must be non-negative");
            string content = HfJson.String(e, "content", path) ?? throw new GgufExportException(path, key + ".content", "is required");
            list.Add(new AddedToken(id, content, HfJson.Bool(e, "special", path) ?? false));
        }
        return list;
    }

    private static Result AddByteLevel(GgufWriter w, string path, JsonElement root, Dictionary<int, string> vocab, List<string> merges,
        List<AddedToken> added, int vocabSize, string? preOverride)
    {
        string pre = preOverride ?? IdentifyPreTokenizer(root, path);
        var addedById = added.ToDictionary(a => a.Id);
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            if (!vocab.TryGetValue(i, out string? tok))
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = Unused;
            }
            else
            {
                tokens[i] = tok;
                types[i] = addedById.TryGetValue(i, out var a) ? (a.Special || LooksSpecial(tok) ? Control : UserDefined) : Normal;
            }
        }
        w.AddString("tokenizer.ggml.model", "gpt2");
        w.AddString("tokenizer.ggml.pre", pre);
        w.Add("tokenizer.ggml.tokens", GgufValue.Array(tokens));
        w.Add("tokenizer.ggml.token_type", GgufValue.Array(types));
        if (merges.Count > 0) w.Add("tokenizer.ggml.merges", GgufValue.Array(merges.ToArray()));
        return new Result("gpt2", pre, vocabSize, merges.Count, false);
    }

    /// <summary>convert_hf_to_gguf.py's does_token_look_special: &lt;|…|&gt;, &lt;…&gt; all-ASCII special names, [PAD] style.</summary>
    private static bool LooksSpecial(string t) =>
        (t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal))
        || t is "<pad>" or "<mask>" or "<unk>" or "<s>" or "</s>" or "<bos>" or "<eos>" or "<start_of_turn>" or "<end_of_turn>";

    private static Result AddSentencePiece(GgufWriter w, string path, JsonElement root, Dictionary<int, string> vocab, List<string> merges,
        List<AddedToken> added, int vocabSize)
    {
        // A piece made by merge r scores −r, so llama.cpp's SentencePiece merge loop (highest score first)
        // applies merges in the BPE's rank order; pieces no merge makes (characters, bytes, specials) score 0.
        var score = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int r = 0; r < merges.Count; r++)
        {
            int sp = merges[r].IndexOf(' ', StringComparison.Ordinal);
            if (sp <= 0) throw new GgufExportException(path, $"model.merges[{r}]", $"\"{merges[r]}\" is not two pieces");
            score.TryAdd(merges[r][..sp] + merges[r][(sp + 1)..], -r);
        }
        var addedById = added.ToDictionary(a => a.Id);
        string? unk = null;
        if (root.TryGetProperty("model", out var m) && !HfJson.IsAbsent(m, "unk_token", out var u) && u.ValueKind == JsonValueKind.String) unk = u.GetString();
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        int maxId = vocab.Count == 0 ? -1 : vocab.Keys.Max();
        for (int i = 0; i <= maxId; i++)
        {
            if (!vocab.TryGetValue(i, out string? tok))
                throw new GgufExportException(path, "model.vocab", $"id {i} is missing: a SentencePiece vocabulary must have every id below {maxId + 1}");
            tokens.Add(tok);
            scores.Add(score.GetValueOrDefault(tok, 0f));
            types.Add(tok == unk ? Unknown
                : addedById.TryGetValue(i, out var a) ? (a.Special ? Control : UserDefined)
                : Regex.IsMatch(tok, "^<0x[0-9A-Fa-f]{2}>$") ? Byte
                : Normal);
        }
        for (int pad = 1; tokens.Count < vocabSize; pad++)
        {
            tokens.Add($"[PAD{pad}]");
            scores.Add(-1000f);
            types.Add(Unused);
        }
        w.AddString("tokenizer.ggml.model", "llama");
        w.AddString("tokenizer.ggml.pre", "default");
        w.Add("tokenizer.ggml.tokens", GgufValue.Array(tokens.ToArray()));
        w.Add("tokenizer.ggml.scores", GgufValue.Array(scores.ToArray()));
        w.Add("tokenizer.ggml.token_type", GgufValue.Array(types.ToArray()));
        w.AddBool("tokenizer.ggml.add_space_prefix", AddsSpacePrefix(root));
        return new Result("llama", null, vocabSize, merges.Count, false);
    }

    /// <summary>SentencePiece's "▁" prefix: a Prepend("▁") normalizer, or a Metaspace pre-tokenizer that prepends.</summary>
    private static bool AddsSpacePrefix(JsonElement root)
    {
        foreach (var step in Steps(root, "normalizer", "normalizers"))
            if (HfJson.String(step, "type", "") == "Prepend" && HfJson.String(step, "prepend", "") == "\u2581") return true;
        foreach (var step in Steps(root, "pre_tokenizer", "pretokenizers"))
            if (HfJson.String(step, "type", "") == "Metaspace")
            {
                string? scheme = step.TryGetProperty("prepend_scheme", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                bool legacy = step.TryGetProperty("add_prefix_space", out var p) && p.ValueKind == JsonValueKind.True;
                return scheme is "always" or "first" || (scheme is null && legacy);
            }
        return false;
    }

    private static IEnumerable<JsonElement> Steps(JsonElement root, string key, string listKey)
    {
        if (HfJson.IsAbsent(root, key, out var v) || v.ValueKind != JsonValueKind.Object) yield break;
        if (v.TryGetProperty(listKey, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in list.EnumerateArray()) if (e.ValueKind == JsonValueKind.Object) yield return e;
        }
        else yield return v;
    }

    /// <summary>The llama.cpp pre-tokenizer whose splitting tokenizer.json's pre_tokenizer defines.</summary>
    internal static string IdentifyPreTokenizer(JsonElement root, string path)
    {
        var steps = Steps(root, "pre_tokenizer", "pretokenizers").ToList();
        string Describe() => string.Join(" + ", steps.Select(s => HfJson.String(s, "type", path) ?? "?"));
        if (steps.Count == 0)
            throw new GgufExportException(path, "pre_tokenizer", "a byte-level BPE tokenizer without a pre_tokenizer has no llama.cpp equivalent");
        string? T(int i) => HfJson.String(steps[i], "type", path);
        bool ByteLevel(int i, bool useRegex) =>
            T(i) == "ByteLevel" && (steps[i].TryGetProperty("use_regex", out var r) ? r.ValueKind == JsonValueKind.True : true) == useRegex
            && !(steps[i].TryGetProperty("add_prefix_space", out var ap) && ap.ValueKind == JsonValueKind.True);
        string? SplitRegex(int i)
        {
            if (T(i) != "Split" || !steps[i].TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object) return null;
            if (HfJson.String(steps[i], "behavior", path) != "Isolated" || HfJson.Bool(steps[i], "invert", path) == true) return null;
            return p.TryGetProperty("Regex", out var re) && re.ValueKind == JsonValueKind.String ? re.GetString() : null;
        }
        bool DigitsIndividually(int i) => T(i) == "Digits" && HfJson.Bool(steps[i], "individual_digits", path) == true;

        if (steps.Count == 1 && ByteLevel(0, useRegex: true)) return "gpt-2";
        if (steps.Count == 2 && DigitsIndividually(0) && ByteLevel(1, useRegex: true)) return "smollm";
        if (steps.Count == 2 && ByteLevel(1, useRegex: false))
        {
            string? re = SplitRegex(0);
            if (re == Llama3Regex) return "llama-bpe";
            if (re == Qwen2Regex) return "qwen2";
        }
        throw new GgufExportException(path, "pre_tokenizer",
            $"this pre-tokenizer ({Describe()}) is not one we can name for llama.cpp (known: {string.Join(", ", KnownPreTokenizers)}); " +
            "set GgufExportOptions.TokenizerPre to llama.cpp's name for it if you know it");
    }

    private static void AddSpecialTokens(GgufWriter w, string configPath, JsonElement? tc, Dictionary<string, int> byContent,
        JsonElement tokenizerJson, HfDecoderConfig config)
    {
        int? Resolve(string type, int[]? fromConfig)
        {
            if (tc is { } c && !HfJson.IsAbsent(c, type + "_token", out var e))
            {
                string? content = e.ValueKind switch
                {
                    JsonValueKind.String => e.GetString(),
                    JsonValueKind.Object when e.TryGetProperty("content", out var ct) && ct.ValueKind == JsonValueKind.String => ct.GetString(),
                    _ => null,
                };
                if (content is not null)
                {
                    if (byContent.TryGetValue(content, out int id)) return id;
                    throw new GgufExportException(configPath, type + "_token", $"\"{content}\" is not a token of tokenizer.json");
                }
            }
            return fromConfig is { Length: > 0 } ? fromConfig[0] : null;
        }
        void Id(string name, int? id)
        {
            if (id is null) return;
            if (id < 0 || id >= config.VocabSize)
                throw new GgufExportException(config.Path, name, $"token id {id} is outside the vocabulary of {config.VocabSize}");
            w.AddUInt32($"tokenizer.ggml.{name}_token_id", (uint)id.Value);
        }
        Id("bos", Resolve("bos", config.BosTokenId));
        Id("eos", Resolve("eos", config.EosTokenId));
        Id("unknown", Resolve("unk", null));
        Id("padding", Resolve("pad", config.PadTokenId is int p ? [p] : null));

        bool? addBos = tc is { } t1 ? HfJson.Bool(t1, "add_bos_token", configPath) : null;
        bool? addEos = tc is { } t2 ? HfJson.Bool(t2, "add_eos_token", configPath) : null;
        if (addBos is null || addEos is null)
        {
            var (bos, eos) = TemplateAddsSpecials(tokenizerJson);
            addBos ??= bos;
            addEos ??= eos;
        }
        if (addBos is bool ab) w.AddBool("tokenizer.ggml.add_bos_token", ab);
        if (addEos is bool ae) w.AddBool("tokenizer.ggml.add_eos_token", ae);
    }

    /// <summary>Whether a TemplateProcessing post-processor puts a special token before / after a single sequence.</summary>
    private static (bool? Bos, bool? Eos) TemplateAddsSpecials(JsonElement root)
    {
        foreach (var step in Steps(root, "post_processor", "processors"))
        {
            if (HfJson.String(step, "type", "") != "TemplateProcessing" || !step.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
                continue;
            var items = single.EnumerateArray().ToList();
            bool IsSpecial(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("SpecialToken", out _);
            return (items.Count > 0 && IsSpecial(items[0]), items.Count > 0 && IsSpecial(items[^1]));
        }
        return (null, null);
    }

    /// <summary>tokenizer_config.json's chat_template (a string, or the "default" of a named list), else chat_template.jinja, else chat_template.json.</summary>
    private static string? ChatTemplate(string directory, string configPath, JsonElement? tc)
    {
        if (tc is { } c && !HfJson.IsAbsent(c, "chat_template", out var t))
        {
            if (t.ValueKind == JsonValueKind.String) return t.GetString();
            if (t.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in t.EnumerateArray())
                    if (e.ValueKind == JsonValueKind.Object && HfJson.String(e, "name", configPath) == "default")
                        return HfJson.String(e, "template", configPath);
                return null;
            }
            throw new GgufExportException(configPath, "chat_template", "must be a string or a list of {name, template}");
        }
        string jinja = System.IO.Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinja)) return File.ReadAllText(jinja);
        string json = System.IO.Path.Combine(directory, "chat_template.json");
        if (File.Exists(json))
        {
            using var doc = HfJson.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? HfJson.String(doc.RootElement, "chat_template", json) : null;
        }
        return null;
    }
}
