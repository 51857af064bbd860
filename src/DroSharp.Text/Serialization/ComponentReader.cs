using System.Text;
using System.Text.Json;
using DroSharp.Text.Decoders;
using DroSharp.Text.Models;
using DroSharp.Text.Normalizers;
using DroSharp.Text.PreTokenizers;
using DroSharp.Text.Processors;
using static DroSharp.Text.Serialization.JsonFields;

namespace DroSharp.Text.Serialization;

/// <summary>Builds pipeline components from their tokenizer.json objects (<c>{"type": …, …}</c>).</summary>
internal static class ComponentReader
{
    public static INormalizer ReadNormalizer(JsonElement e, string path)
    {
        string type = Type(e, path);
        switch (type)
        {
            case "NFC": return new UnicodeNormalizer(NormalizationForm.FormC);
            case "NFD": return new UnicodeNormalizer(NormalizationForm.FormD);
            case "NFKC": return new UnicodeNormalizer(NormalizationForm.FormKC);
            case "NFKD": return new UnicodeNormalizer(NormalizationForm.FormKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "Strip": return new StripNormalizer(Bool(e, "strip_left", path, true), Bool(e, "strip_right", path, true));
            case "StripAccents": return new StripAccentsNormalizer();
            case "Nmt": return new NmtNormalizer();
            case "ByteLevel": return new ByteLevelNormalizer();
            case "Prepend": return new PrependNormalizer(String(e, "prepend", path));
            case "Replace": return new ReplaceNormalizer(ReadPattern(e, path), String(e, "content", path));
            case "Precompiled":
            {
                string? b64 = OptionalString(e, "precompiled_charsmap", path);
                byte[] blob;
                try { blob = b64 == null ? [] : Convert.FromBase64String(b64); }
                catch (FormatException ex) { throw new FormatException($"{path}.precompiled_charsmap: not valid base64 ({ex.Message})"); }
                try { return new PrecompiledNormalizer(blob); }
                catch (FormatException ex) { throw new FormatException($"{path}: {ex.Message}"); }
            }
            case "BertNormalizer":
                return new BertNormalizer(Bool(e, "clean_text", path, true), Bool(e, "handle_chinese_chars", path, true),
                    OptionalBool(e, "strip_accents", path), Bool(e, "lowercase", path, true));
            case "Sequence":
                return new SequenceNormalizer(ReadList(Array(e, "normalizers", path), $"{path}.normalizers", ReadNormalizer));
            default:
                throw new NotSupportedException($"{path}: normalizer type \"{type}\" is not supported");
        }
    }

    public static IPreTokenizer ReadPreTokenizer(JsonElement e, string path)
    {
        string type = Type(e, path);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPreTokenizer(Bool(e, "add_prefix_space", path, true), Bool(e, "trim_offsets", path, true), Bool(e, "use_regex", path, true));
            case "Metaspace":
                return new MetaspacePreTokenizer(Char(e, "replacement", path), ReadPrependScheme(e, path), Bool(e, "split", path, true));
            case "Split":
                return new SplitPreTokenizer(ReadPattern(e, path), Splitter.ParseBehavior(String(e, "behavior", path)), Bool(e, "invert", path, false));
            case "Whitespace": return new WhitespacePreTokenizer();
            case "WhitespaceSplit": return CharClassPreTokenizer.WhitespaceSplit();
            case "BertPreTokenizer": return CharClassPreTokenizer.Bert();
            case "Punctuation":
                return CharClassPreTokenizer.Punctuation(Splitter.ParseBehavior(OptionalString(e, "behavior", path) ?? "Isolated"));
            case "Digits": return CharClassPreTokenizer.Digits(Bool(e, "individual_digits", path, false));
            case "Sequence":
                return new SequencePreTokenizer(ReadList(Array(e, "pretokenizers", path), $"{path}.pretokenizers", ReadPreTokenizer));
            default:
                throw new NotSupportedException($"{path}: pre-tokenizer type \"{type}\" is not supported");
        }
    }

    public static IDecoder ReadDecoder(JsonElement e, string path)
    {
        string type = Type(e, path);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelDecoder(Bool(e, "add_prefix_space", path, true), Bool(e, "trim_offsets", path, true), Bool(e, "use_regex", path, true));
            case "Metaspace":
                return new MetaspaceDecoder(Char(e, "replacement", path), ReadPrependScheme(e, path), Bool(e, "split", path, true));
            case "Replace": return new ReplaceDecoder(ReadPattern(e, path), String(e, "content", path));
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip": return new StripDecoder(Char(e, "content", path), Int(e, "start", path, 0), Int(e, "stop", path, 0));
            case "WordPiece": return new WordPieceDecoder(OptionalString(e, "prefix", path) ?? "##", Bool(e, "cleanup", path, true));
            case "BPEDecoder": return new BpeSuffixDecoder(OptionalString(e, "suffix", path) ?? "</w>");
            case "Sequence":
                return new SequenceDecoder(ReadList(Array(e, "decoders", path), $"{path}.decoders", ReadDecoder));
            default:
                throw new NotSupportedException($"{path}: decoder type \"{type}\" is not supported");
        }
    }

    public static IPostProcessor ReadPostProcessor(JsonElement e, string path)
    {
        string type = Type(e, path);
        switch (type)
        {
            case "TemplateProcessing":
            {
                var single = ReadTemplate(Array(e, "single", path), $"{path}.single");
                var pairTemplate = Get(e, "pair") is { } pair ? ReadTemplate(pair, $"{path}.pair") : [];
                var specials = ReadTemplateSpecialTokens(e, path);
                // As HF's TemplateProcessing builder: a template may only name special tokens it defines.
                var missing = single.Concat(pairTemplate).Where(p => !p.IsSequence && !specials.ContainsKey(p.Id)).Select(p => p.Id).Distinct().ToList();
                if (missing.Count > 0)
                    throw new FormatException($"{path}: missing special token(s) {string.Join(", ", missing.Select(m => $"\"{m}\""))} in special_tokens");
                return new TemplateProcessor(single, pairTemplate, specials);
            }
            case "ByteLevel":
                return SimpleProcessor.ByteLevel(Bool(e, "add_prefix_space", path, true), Bool(e, "trim_offsets", path, true), Bool(e, "use_regex", path, true));
            case "BertProcessing":
                return SimpleProcessor.Bert(ReadTokenIdPair(e, "cls", path), ReadTokenIdPair(e, "sep", path));
            case "RobertaProcessing":
                return SimpleProcessor.Roberta(ReadTokenIdPair(e, "cls", path), ReadTokenIdPair(e, "sep", path),
                    Bool(e, "trim_offsets", path, true), Bool(e, "add_prefix_space", path, true));
            case "Sequence":
                return new SequenceProcessor(ReadList(Array(e, "processors", path), $"{path}.processors", ReadPostProcessor));
            default:
                throw new NotSupportedException($"{path}: post-processor type \"{type}\" is not supported");
        }
    }

    public static ITokenizerModel ReadModel(JsonElement e, string path)
    {
        // Very old files omit the model's "type"; tell the models apart by their fields as HF does.
        string type = Get(e, "type") is null
            ? Get(e, "merges") is not null ? "BPE" : Get(e, "unk_id") is not null || (Get(e, "vocab")?.ValueKind == JsonValueKind.Array) ? "Unigram" : "WordLevel"
            : Type(e, path);
        switch (type)
        {
            case "BPE":
                return new BpeModel(
                    ReadVocabMap(e, path),
                    ReadMerges(e, path),
                    OptionalString(e, "unk_token", path),
                    OptionalString(e, "continuing_subword_prefix", path),
                    OptionalString(e, "end_of_word_suffix", path),
                    Bool(e, "fuse_unk", path, false),
                    Bool(e, "byte_fallback", path, false),
                    Bool(e, "ignore_merges", path, false),
                    OptionalDouble(e, "dropout", path));
            case "Unigram":
            {
                var vocab = new List<(string, double)>();
                int i = 0;
                foreach (var item in Array(e, "vocab", path).EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() != 2
                        || item[0].ValueKind != JsonValueKind.String || item[1].ValueKind != JsonValueKind.Number)
                        throw new FormatException($"{path}.vocab[{i}]: expected [piece, score], found {item}");
                    vocab.Add((item[0].GetString()!, item[1].GetDouble()));
                    i++;
                }
                return new UnigramModel(vocab, OptionalInt(e, "unk_id", path), Bool(e, "byte_fallback", path, false));
            }
            case "WordLevel":
                return new WordLevelModel(ReadVocabMap(e, path), OptionalString(e, "unk_token", path) ?? "<unk>");
            default:
                throw new NotSupportedException($"{path}: model type \"{type}\" is not supported");
        }
    }

    private static Dictionary<string, int> ReadVocabMap(JsonElement e, string path)
    {
        var vocab = new Dictionary<string, int>();
        foreach (var p in Object(e, "vocab", path).EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new FormatException($"{path}.vocab[\"{p.Name}\"]: expected a non-negative integer id, found {p.Value}");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    private static List<(string, string)> ReadMerges(JsonElement e, string path)
    {
        var merges = new List<(string, string)>();
        if (Get(e, "merges") is not { } arr) return merges;
        if (arr.ValueKind != JsonValueKind.Array) throw new FormatException($"{path}.merges: expected an array");
        int i = 0;
        foreach (var m in arr.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                string s = m.GetString()!;
                int space = s.IndexOf(' ');
                if (space < 0) throw new FormatException($"{path}.merges[{i}]: \"{s}\" is not two tokens separated by a space");
                merges.Add((s[..space], s[(space + 1)..]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                     && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
            {
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            }
            else
            {
                throw new FormatException($"{path}.merges[{i}]: expected \"a b\" or [\"a\", \"b\"], found {m}");
            }
            i++;
        }
        return merges;
    }

    private static PrependScheme ReadPrependScheme(JsonElement e, string path)
    {
        var scheme = OptionalString(e, "prepend_scheme", path) switch
        {
            null or "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            var s => throw new FormatException($"{path}.prepend_scheme: unknown scheme \"{s}\""),
        };
        if (OptionalBool(e, "add_prefix_space", path) == false)
        {
            if (Get(e, "prepend_scheme") is not null && scheme != PrependScheme.Never)
                throw new FormatException($"{path}: add_prefix_space false does not match prepend_scheme");
            scheme = PrependScheme.Never;
        }
        return scheme;
    }

    private static TextPattern ReadPattern(JsonElement e, string path)
    {
        var p = Object(e, "pattern", path);
        if (OptionalString(p, "String", $"{path}.pattern") is { } s) return TextPattern.Literal(s);
        if (OptionalString(p, "Regex", $"{path}.pattern") is { } r)
        {
            try { return TextPattern.FromRegex(r); }
            catch (ArgumentException ex) { throw new FormatException($"{path}.pattern.Regex: {ex.Message}"); }
        }
        throw new FormatException($"{path}.pattern: expected {{\"String\": …}} or {{\"Regex\": …}}");
    }

    private static List<TemplatePiece> ReadTemplate(JsonElement arr, string path)
    {
        var pieces = new List<TemplatePiece>();
        int i = 0;
        foreach (var item in arr.EnumerateArray())
        {
            string p = $"{path}[{i}]";
            if (Get(item, "Sequence") is { } seq) pieces.Add(new TemplatePiece(true, String(seq, "id", p), Int(seq, "type_id", p, 0)));
            else if (Get(item, "SpecialToken") is { } sp) pieces.Add(new TemplatePiece(false, String(sp, "id", p), Int(sp, "type_id", p, 0)));
            else throw new FormatException($"{p}: expected {{\"Sequence\": …}} or {{\"SpecialToken\": …}}");
            i++;
        }
        return pieces;
    }

    private static Dictionary<string, TemplateSpecialToken> ReadTemplateSpecialTokens(JsonElement e, string path)
    {
        var result = new Dictionary<string, TemplateSpecialToken>();
        if (Get(e, "special_tokens") is not { } obj) return result;
        foreach (var p in obj.EnumerateObject())
        {
            string sp = $"{path}.special_tokens[\"{p.Name}\"]";
            var ids = Array(p.Value, "ids", sp).EnumerateArray()
                .Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int id) && id >= 0 ? id : throw new FormatException($"{sp}.ids: expected non-negative integers, found {x}")).ToList();
            var tokens = Array(p.Value, "tokens", sp).EnumerateArray()
                .Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : throw new FormatException($"{sp}.tokens: expected strings, found {x}")).ToList();
            if (ids.Count != tokens.Count) throw new FormatException($"{sp}: ids and tokens differ in length");
            string name = OptionalString(p.Value, "id", sp) ?? p.Name;
            if (name != p.Name) throw new FormatException($"{sp}: its id \"{name}\" differs from its key");
            result[p.Name] = new TemplateSpecialToken(name, ids, tokens);
        }
        return result;
    }

    private static (string, int) ReadTokenIdPair(JsonElement e, string name, string path)
    {
        var arr = Array(e, name, path);
        if (arr.GetArrayLength() != 2 || arr[0].ValueKind != JsonValueKind.String || !arr[1].TryGetInt32(out int id))
            throw new FormatException($"{path}.{name}: expected [token, id]");
        return (arr[0].GetString()!, id);
    }

    private static List<T> ReadList<T>(JsonElement arr, string path, Func<JsonElement, string, T> read)
    {
        var list = new List<T>();
        int i = 0;
        foreach (var item in arr.EnumerateArray()) list.Add(read(item, $"{path}[{i++}]"));
        return list;
    }
}
