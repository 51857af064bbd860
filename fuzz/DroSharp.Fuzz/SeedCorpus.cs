using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Gguf;
using DroSharp.Tensors;

namespace DroSharp.Fuzz;

/// <summary>
/// Writes <c>fuzz/seeds/TARGET/</c> from the repository's test fixtures (<c>--write-seeds REPO OUT</c>): configs,
/// chat templates and tokenizer configs as they are; tokenizers and checkpoints cut down to a few KB (fuzzers work
/// best on small inputs) but keeping every component and dtype the fixtures use; feedback rows of every kind the
/// reader accepts or rejects; GGUF files written by <see cref="GgufWriter"/> with the fixtures' metadata keys.
/// </summary>
internal static class SeedCorpus
{
    public static void Write(string repo, string output)
    {
        string models = Path.Combine(repo, "tests", "DroSharp.Models.Tests", "Fixtures");
        string text = Path.Combine(repo, "tests", "DroSharp.Text.Tests", "Fixtures");
        void Put(string target, string name, byte[] bytes)
        {
            string dir = Path.Combine(output, target);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
        void PutText(string target, string name, string content) => Put(target, name, Encoding.UTF8.GetBytes(content));

        // config: every fixture's config.json.
        foreach (var cfg in Directory.GetFiles(models, "config.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            Put("config", Path.GetFileName(Path.GetDirectoryName(cfg))! + ".json", File.ReadAllBytes(cfg));

        // safetensors and shard-index: each fixture checkpoint's first tensors (names, dtypes, metadata kept), cut to ≤ 12 values.
        var checkpoints = Directory.GetFiles(models, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        foreach (var file in checkpoints.Where(f => f.Contains("t5-tiny-v1") || f.Contains("bf16") || f.Contains("llama-gqa-bias/model")))
        {
            using var r = SafetensorsReader.Open(file);
            var w = new SafetensorsWriter();
            foreach (var (key, value) in r.Metadata ?? new Dictionary<string, string>()) w.AddMetadata(key, value);
            var tensors = new List<Tensor>();
            foreach (var info in r.Tensors.Take(4))
            {
                int n = (int)Math.Min(12, info.ElementCount);
                var t = Tensor.FromArray(Enumerable.Range(0, n).Select(i => 0.25f * i - 1).ToArray(), info.Rank >= 2 && n % 3 == 0 ? new Shape(3, n / 3) : new Shape(n));
                tensors.Add(t);
                w.Add(info.Name, t, info.Dtype is SafetensorsDtype.BF16 or SafetensorsDtype.F16 ? info.Dtype : SafetensorsDtype.F32);
            }
            w.AddInt64("position_ids", [0, 1, 2, 3], 1, 4);
            string tmp = Path.Combine(ScratchDirectory.Path_, "seed.safetensors");
            w.Write(tmp);
            foreach (var t in tensors) t.Dispose();
            string name = string.Join('-', Path.GetRelativePath(models, file).Split(Path.DirectorySeparatorChar)).Replace(".safetensors", "");
            Put("safetensors", name + ".safetensors", File.ReadAllBytes(tmp));

            var index = new JsonObject
            {
                ["metadata"] = new JsonObject { ["total_size"] = r.Tensors.Sum(t => t.ByteLength) },
                ["weight_map"] = new JsonObject(r.Tensors.Take(6).Select((t, i) => KeyValuePair.Create(t.Name, (JsonNode?)JsonValue.Create($"model-0000{1 + i % 2}-of-00002.safetensors")))),
            };
            PutText("shard-index", name + ".index.json", index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        // tokenizer: the fixture tokenizers with their vocabularies cut to the first entries (merges kept when their parts are kept).
        foreach (var (file, name) in new[] { ("t5-unigram.tokenizer.json", "t5-unigram"), ("gpt2-bpe.tokenizer.json", "gpt2-bpe"), ("qwen3-bpe.tokenizer.json.gz", "qwen3-bpe") })
        {
            string json = file.EndsWith(".gz")
                ? new StreamReader(new GZipStream(File.OpenRead(Path.Combine(text, file)), CompressionMode.Decompress)).ReadToEnd()
                : File.ReadAllText(Path.Combine(text, file));
            PutText("tokenizer", name + ".json", ShrinkTokenizer(json, 160));
        }
        PutText("tokenizer", "wordlevel.json", """
            {"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},
             "post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":0}}],"special_tokens":{"</s>":{"id":"</s>","ids":[1],"tokens":["</s>"]}}},
             "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
             "model":{"type":"WordLevel","vocab":{"<pad>":0,"</s>":1,"<unk>":2,"hello":3,"world":4,",":5,"!":6},"unk_token":"<unk>"}}
            """);

        // chat-template and tokenizer-config: every fixture template; the fixture tokenizer_config.json files; small Jinja2 reference cases.
        string templates = Path.Combine(text, "chat-templates");
        foreach (var dir in Directory.GetDirectories(templates).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            string jinja = Path.Combine(dir, "chat_template.jinja"), config = Path.Combine(dir, "tokenizer_config.json");
            if (File.Exists(jinja))
            {
                Put("chat-template", name + ".jinja", File.ReadAllBytes(jinja));
                PutText("tokenizer-config", name + ".json", new JsonObject
                {
                    ["bos_token"] = "<s>", ["eos_token"] = new JsonObject { ["content"] = "</s>", ["special"] = true }, ["unk_token"] = null,
                    ["chat_template"] = File.ReadAllText(jinja),
                }.ToJsonString());
            }
            if (File.Exists(config) && new FileInfo(config).Length < 64 << 10) Put("tokenizer-config", name + ".config.json", File.ReadAllBytes(config));
        }
        int k = 0;
        foreach (var line in File.ReadLines(Path.Combine(text, "jinja2-reference.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            if (!doc.RootElement.TryGetProperty("template", out var t)) continue;
            if (k++ % 40 != 0) continue; // one in 40 of the 5,445 reference templates
            PutText("chat-template", $"jinja2-{k:D4}.jinja", t.GetString()!);
        }

        // feedback-jsonl and feedback-csv: every kind of row the reader knows, good and bad (as in the data tests).
        string[] jsonl =
        [
            """{"prompt": "what colour is thing 1", "completion": "it is red", "label": true}""" + "\n" + """{"prompt": "what colour is thing 1", "completion": "it is blue", "label": false}""",
            """{"prompt": "a", "completion": "b", "reward": 1.5}""" + "\n" + """{"prompt": "a", "completion": "c", "reward": -0.5}""" + "\n" + """{"prompt": "d", "completion": "e", "reward": NaN}""",
            """{"prompt": "q", "chosen": "good", "rejected": "bad"}""" + "\n" + """{"prompt": "r", "chosen": "yes", "rejected": "no"}""",
            """{"prompt": "tell me", "completion": "a story"}""" + "\n" + """{"prompt": "and", "completion": "another"}""",
            """{"prompt_ids": [5, 6, 7], "completion_ids": [8, 1], "label": true}""" + "\n" + """{"prompt_ids": [5, 9], "completion_ids": [63, 1], "label": false}""",
            """{"prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "hello"}], "label": true}""",
            """[{"prompt": "a", "completion": "b", "reward": 1e300}, {"prompt": "a", "completion": "c", "reward": -1e300}]""",
            """{"prompt": "x", "completion": "y", "label": "yes"}""" + "\n" + """{"prompt": "x", "completion": "z", "label": 0}""" + "\n" + "not json",
        ];
        for (int i = 0; i < jsonl.Length; i++) PutText("feedback-jsonl", $"rows-{i}.jsonl", jsonl[i] + "\n");
        string[] csv =
        [
            "prompt,completion,label\nwhat colour,it is red,true\nwhat colour,\"it is \"\"blue\"\"\",false\n",
            "prompt,completion,reward\na,b,1.5\na,c,-2\nd,\"multi\nline\",0.25\n",
            "prompt,chosen,rejected\nq,good,bad\n",
            ",prompt,completion\n0,tell me,a story\n1,and,another\n",
            "prompt_ids,completion_ids,label\n\"[5, 6]\",\"[8, 1]\",1\n\"[5]\",\"[99, 1]\",0\n",
            "prompt,completion,reward\na,b,inf\na,c,1e300\n",
        ];
        for (int i = 0; i < csv.Length; i++) PutText("feedback-csv", $"rows-{i}.csv", csv[i]);

        // gguf: files written by GgufWriter with the metadata keys of the GGUF fixtures' expected.json and F32, F16, Q8_0 tensors.
        foreach (var expected in Directory.GetFiles(Path.Combine(models, "gguf"), "expected.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(expected));
            var w = new GgufWriter();
            string arch = Path.GetFileName(Path.GetDirectoryName(expected))!.Split('-')[0];
            w.AddString("general.architecture", arch);
            w.AddString("general.name", "seed");
            foreach (var p in FlattenNumbers(doc.RootElement).Take(12)) w.AddFloat32($"{arch}.{p.Key}", (float)p.Value);
            w.AddUInt32($"{arch}.block_count", 1);
            w.Add("tokenizer.ggml.tokens", GgufValue.Array(new[] { "<unk>", "<s>", "</s>", "a" }));
            w.Add("tokenizer.ggml.scores", GgufValue.Array(new[] { 0f, -1f, -2f, -3.5f }));
            w.AddTensor("token_embd.weight", [4, 32], GgufTensorType.Q8_0, Enumerable.Range(0, 128).Select(i => (float)Math.Sin(i)).ToArray());
            w.AddTensor("output_norm.weight", [32], GgufTensorType.F32, Enumerable.Range(0, 32).Select(i => 1f + i / 64f).ToArray());
            w.AddTensor("blk.0.attn_q.weight", [2, 8], GgufTensorType.F16, Enumerable.Range(0, 16).Select(i => i / 8f).ToArray());
            string tmp = Path.Combine(ScratchDirectory.Path_, "seed.gguf");
            w.Write(tmp);
            Put("gguf", arch + ".gguf", File.ReadAllBytes(tmp));
        }

        // run-json: the options the trainer tests use, as run.json.
        PutText("run-json", "default.json", new DroSharp.Alignment.Training.TrainingOptions { Model = "m", Data = "d.jsonl", Out = "run" }.ToJson());
        PutText("run-json", "kto.json", new DroSharp.Alignment.Training.TrainingOptions
        {
            Algo = "kto", Model = "/models/m0", Data = "data.jsonl", Out = "r", Optimizer = "adafactor", BatchSize = 4, GradientAccumulation = 2,
            MaxSteps = 24, EvalFraction = 0.2, Schedule = "cosine", KtoLabel = "batch-mean",
        }.ToJson());
    }

    private static IEnumerable<KeyValuePair<string, double>> FlattenNumbers(JsonElement e, string prefix = "")
    {
        if (e.ValueKind == JsonValueKind.Number) yield return KeyValuePair.Create(prefix.TrimStart('.'), e.GetDouble());
        else if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject())
                foreach (var x in FlattenNumbers(p.Value, prefix + "." + p.Name)) yield return x;
    }

    /// <summary>A tokenizer.json with its model's vocabulary cut to the first <paramref name="keep"/> ids (and the merges among them).</summary>
    private static string ShrinkTokenizer(string json, int keep)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var model = root["model"]!.AsObject();
        if (model["vocab"] is JsonArray list)
        {
            var kept = new JsonArray(list.Take(keep).Select(n => n!.DeepClone()).ToArray());
            model["vocab"] = kept;
            if (model["unk_id"] is JsonValue u && u.GetValue<int>() >= keep) model["unk_id"] = 0;
        }
        else if (model["vocab"] is JsonObject map)
        {
            var kept = map.Where(p => p.Value!.GetValue<int>() < keep).ToList();
            var names = kept.Select(p => p.Key).ToHashSet();
            model["vocab"] = new JsonObject(kept.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value!.DeepClone())));
            if (model["merges"] is JsonArray merges)
            {
                var keptMerges = merges.Where(m =>
                {
                    string[] parts = m is JsonArray a ? [a[0]!.GetValue<string>(), a[1]!.GetValue<string>()] : m!.GetValue<string>().Split(' ');
                    return parts.Length == 2 && names.Contains(parts[0]) && names.Contains(parts[1]) && names.Contains(parts[0] + parts[1]);
                }).Select(m => m!.DeepClone()).ToArray();
                model["merges"] = new JsonArray(keptMerges);
            }
        }
        // T5's precompiled charsmap is 300 KB: a seed keeps the normalizer's kind with NFKC in its place.
        if (root["normalizer"] is JsonObject { } norm && (string?)norm["type"] == "Precompiled") root["normalizer"] = new JsonObject { ["type"] = "NFKC" };
        if (root["added_tokens"] is JsonArray added) root["added_tokens"] = new JsonArray(added.Take(8).Select(n => n!.DeepClone()).ToArray());
        return root.ToJsonString();
    }
}
