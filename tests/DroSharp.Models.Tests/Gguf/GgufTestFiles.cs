using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>Fixture paths, a scratch directory, the golden rows, and tokenizer files made for tests.</summary>
internal sealed class GgufTestFiles : IDisposable
{
    private readonly TempDirectory _scratch = new("drosharp-gguf-");

    public string Directory => _scratch.Path;

    public string PathFor(string name) => _scratch.File(name);

    public static string FixturesRoot([CallerFilePath] string source = "")
    {
        string nearSource = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "Fixtures"));
        return System.IO.Directory.Exists(nearSource) ? nearSource : Path.Combine(AppContext.BaseDirectory, "Fixtures");
    }

    /// <summary>tests/DroSharp.Models.Tests/Fixtures/decoders/NAME (the transformers goldens).</summary>
    public static string Decoder(string name) => Path.Combine(FixturesRoot(), "decoders", name);

    public static string Stories260K => Path.Combine(FixturesRoot(), "stories260K");

    /// <summary>tests/DroSharp.Text.Tests/Fixtures/NAME (the real tokenizer files of the tokenizer tests).</summary>
    public static string TextFixture(string name) =>
        Path.GetFullPath(Path.Combine(FixturesRoot(), "..", "..", "DroSharp.Text.Tests", "Fixtures", name));

    public sealed record Row(int[] Prompt, int[] Completion, double[] ExpectedLogps);

    /// <summary>A golden folder's inputs.jsonl with expected.json's token_logps (transformers, float32).</summary>
    public static List<Row> GoldenRows(string folder)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "expected.json")))!["token_logps"]!.AsArray();
        var rows = new List<Row>();
        int i = 0;
        foreach (string line in File.ReadLines(Path.Combine(folder, "inputs.jsonl")))
        {
            if (line.Trim().Length == 0) continue;
            var o = JsonNode.Parse(line)!;
            rows.Add(new Row(Ints(o["prompt_ids"]!), Ints(o["completion_ids"]!), expected[i++]!.AsArray().Select(x => x!.GetValue<double>()).ToArray()));
        }
        return rows;
    }

    /// <summary>stories260K's expected.jsonl rows.</summary>
    public static List<Row> StoriesRows() =>
        File.ReadLines(Path.Combine(Stories260K, "expected.jsonl")).Where(l => l.Trim().Length > 0).Select(l =>
        {
            var o = JsonNode.Parse(l)!;
            return new Row(Ints(o["prompt_ids"]!), Ints(o["completion_ids"]!), o["token_logps"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray());
        }).ToList();

    private static int[] Ints(JsonNode n) => n.AsArray().Select(x => x!.GetValue<int>()).ToArray();

    /// <summary>
    /// A model folder copy in the scratch directory (so tests can add tokenizer files or edit config.json
    /// without touching the fixture); <paramref name="editConfig"/> may change config.json.
    /// </summary>
    public string CopyModel(string source, string name, Action<JsonObject>? editConfig = null)
    {
        string dir = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(dir);
        foreach (string f in new[] { "config.json", "generation_config.json", "model.safetensors" })
            if (File.Exists(Path.Combine(source, f))) File.Copy(Path.Combine(source, f), Path.Combine(dir, f));
        if (editConfig is not null)
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            editConfig(config);
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        return dir;
    }

    /// <summary>The GPT-2 byte → printable character map of byte-level BPE.</summary>
    public static char[] ByteLevelAlphabet()
    {
        var bs = new List<int>();
        for (int b = '!'; b <= '~'; b++) bs.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bs.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bs.Add(b);
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = bs.Contains(b) ? (char)b : (char)(256 + n++);
        return map;
    }

    /// <summary>
    /// A byte-level BPE tokenizer of exactly <paramref name="vocabSize"/> tokens for the goldens (which have none):
    /// ids 0, 1, 2 = &lt;pad&gt;, &lt;s&gt;, &lt;/s&gt; (special), then the 256 byte symbols, then merges of
    /// frequent letter pairs; GPT-2's pre-tokenizer; a ChatML-like chat template.
    /// </summary>
    public static void WriteByteLevelTokenizer(string dir, int vocabSize, string preTokenizerJson = """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""",
        params string[] extraSpecials)
    {
        System.IO.Directory.CreateDirectory(dir);
        char[] alphabet = ByteLevelAlphabet();
        var vocab = new JsonObject { ["<pad>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        int id = 3;
        foreach (char c in alphabet) vocab[c.ToString()] = id++;
        var merges = new JsonArray();
        string letters = "\u0120etaoinshrdlucmfwypvbgkjqxz";
        foreach (char a in letters)
            foreach (char b in letters.Skip(1))
            {
                if (id >= vocabSize - extraSpecials.Length) break;
                string merged = $"{a}{b}";
                if (vocab.ContainsKey(merged)) continue;
                merges.Add($"{a} {b}");
                vocab[merged] = id++;
            }
        int firstExtra = id;
        foreach (string special in extraSpecials) vocab[special] = id++;
        if (id != vocabSize) throw new InvalidOperationException($"made {id} tokens for a vocabulary of {vocabSize}");
        JsonNode Added(int i, string content) => new JsonObject
        {
            ["id"] = i, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray([Added(0, "<pad>"), Added(1, "<s>"), Added(2, "</s>"), .. extraSpecials.Select((t, k) => Added(firstExtra + k, t))]),
            ["normalizer"] = null,
            ["pre_tokenizer"] = JsonNode.Parse(preTokenizerJson),
            ["post_processor"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}"""),
            ["decoder"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        var config = new JsonObject
        {
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["pad_token"] = "<pad>", ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["chat_template"] = "{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}{% if add_generation_prompt %}<s>assistant\n{% endif %}",
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
    }

    /// <summary>
    /// A SentencePiece-style BPE tokenizer.json (Llama 2 / Phi-3 layout) of exactly <paramref name="vocabSize"/>
    /// tokens: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte-fallback pieces &lt;0x00&gt;…&lt;0xFF&gt;, "▁" and
    /// letters, merged pieces, then <paramref name="extraSpecials"/> at the top ids; "▁" prepended and spaces replaced.
    /// </summary>
    public static void WriteSentencePieceTokenizer(string dir, int vocabSize, params string[] extraSpecials)
    {
        System.IO.Directory.CreateDirectory(dir);
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        int id = 3;
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = id++;
        string letters = "\u2581etaoinshrdlucmfwypvbgkjqxz";
        foreach (char c in letters) vocab[c.ToString()] = id++;
        var merges = new JsonArray();
        foreach (char a in letters)
            foreach (char b in letters.Skip(1))
            {
                if (id >= vocabSize - extraSpecials.Length) break;
                merges.Add($"{a} {b}");
                vocab[$"{a}{b}"] = id++;
            }
        int firstExtra = id;
        foreach (string special in extraSpecials) vocab[special] = id++;
        if (id != vocabSize) throw new InvalidOperationException($"made {id} tokens for a vocabulary of {vocabSize}");
        JsonNode Added(int i, string content) => new JsonObject
        {
            ["id"] = i, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray([Added(0, "<unk>"), Added(1, "<s>"), Added(2, "</s>"), .. extraSpecials.Select((t, k) => Added(firstExtra + k, t))]),
            ["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}"""),
            ["pre_tokenizer"] = null,
            ["post_processor"] = JsonNode.Parse("""{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [{"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}"""),
            ["decoder"] = JsonNode.Parse("""{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        var config = new JsonObject
        {
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>", ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["tokenizer_class"] = "LlamaTokenizer",
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
    }

    public void Dispose() => _scratch.Dispose();
}
