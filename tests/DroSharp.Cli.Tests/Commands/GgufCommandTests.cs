using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Tests.Gguf;
using Xunit.Abstractions;

namespace DroSharp.Cli.Tests.Commands;

/// <summary><c>dro export gguf</c> and <c>dro gguf inspect</c>, end to end, with llama.cpp (LLamaSharp) reading what was written.</summary>
public sealed class GgufCommandTests(TrainedTinyModels models, ITestOutputHelper output) : IClassFixture<TrainedTinyModels>
{
    private static readonly string[] Prompts =
    [
        "what colour is thing 3 please",
        "what colour is thing 17 please",
        "what colour is thing 250 please",
        "the cat sat on the mat",
        "please",
    ];

    /// <summary>
    /// <c>dro generate --temperature 0</c> on the model directory and llama.cpp's greedy decoding of the exported
    /// f32 file give the same tokens. <c>dro generate</c> encodes a prompt with the tokenizer's special tokens
    /// (this tokenizer ends every text with &lt;/s&gt;); llama.cpp's own tokenization, with the file's
    /// add_bos/add_eos flags, must give the same ids. Both stop after the EOS (&lt;/s&gt;, kept).
    /// </summary>
    [Theory]
    [InlineData("llama-tiny")]
    [InlineData("qwen3-tiny")]
    public void GreedyGenerationOfTheExportedFileEqualsDroGenerate(string preset)
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            const int maxNew = 32;
            string model = models.Model(preset), gguf = Path.Combine(dir, "model.gguf"), prompts = Path.Combine(dir, "prompts.jsonl"), answers = Path.Combine(dir, "answers.jsonl");
            CliRunner.Ok("export", "gguf", "--model", model, "--out", gguf, "--type", "f32");
            File.WriteAllLines(prompts, Prompts.Select(p => JsonSerializer.Serialize(new { prompt = p })));
            CliRunner.Ok("generate", "--model", model, "--prompts", prompts, "--out", answers, "--temperature", "0", "--max-new-tokens", maxNew.ToString());
            var ours = File.ReadAllLines(answers).Select(l => JsonNode.Parse(l)!["completion_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray()).ToList();

            var tokenizer = DroSharp.Text.Tokenizer.FromFile(Path.Combine(model, "tokenizer.json"));
            using var llama = LlamaCppModel.Load(gguf);
            for (int i = 0; i < Prompts.Length; i++)
            {
                int[] ids = tokenizer.EncodeIds(Prompts[i], addSpecialTokens: true);
                Assert.Equal(ids, llama.Tokenize(Prompts[i], addBos: true));
                int[] theirs = llama.GenerateGreedy(ids, maxNew);
                output.WriteLine($"{preset} \"{Prompts[i]}\" → [{string.Join(", ", theirs)}] {JsonSerializer.Serialize(tokenizer.Decode(theirs, skipSpecialTokens: true))}");
                Assert.True(ours[i].SequenceEqual(theirs), $"{preset} \"{Prompts[i]}\": dro generate [{string.Join(", ", ours[i])}] vs llama.cpp [{string.Join(", ", theirs)}]");
            }
            // The trained model answers the training-like prompts at length and then stops at its EOS.
            Assert.Contains(ours, o => o.Length >= 16 && o[^1] == 1);
        }
    }

    /// <summary>
    /// A LoRA run's RUN/final is an adapter: <c>dro export gguf</c> merges it into its base and exports that, and
    /// llama.cpp's greedy decoding of the file equals <c>dro generate</c> on the adapter directory.
    /// </summary>
    [Fact]
    public void ExportOfALoraRunMergesTheAdapterAndRoundTrips()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            const int maxNew = 24;
            string run = Path.Combine(dir, "lora-run"), gguf = Path.Combine(dir, "lora.gguf"), prompts = Path.Combine(dir, "prompts.jsonl"), answers = Path.Combine(dir, "answers.jsonl");
            CliRunner.Ok("train", "--algo", "sft", "--model", models.Model("qwen3-tiny"), "--data", models.Data, "--out", run, "--lora", "8",
                "--lr", "1e-2", "--warmup-steps", "0", "--max-steps", "30", "--batch-size", "8", "--log-every", "10");
            string adapter = Path.Combine(run, "final");
            Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
            string printed = CliRunner.Ok("export", "gguf", "--model", adapter, "--out", gguf, "--type", "f32");
            Assert.Contains("merged the adapter", printed);
            File.WriteAllLines(prompts, Prompts.Select(p => JsonSerializer.Serialize(new { prompt = p })));
            CliRunner.Ok("generate", "--model", adapter, "--prompts", prompts, "--out", answers, "--temperature", "0", "--max-new-tokens", maxNew.ToString());
            var ours = File.ReadAllLines(answers).Select(l => JsonNode.Parse(l)!["completion_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray()).ToList();
            var tokenizer = DroSharp.Text.Tokenizer.FromFile(Path.Combine(adapter, "tokenizer.json"));
            using var llama = LlamaCppModel.Load(gguf);
            for (int i = 0; i < Prompts.Length; i++)
            {
                int[] theirs = llama.GenerateGreedy(tokenizer.EncodeIds(Prompts[i], addSpecialTokens: true), maxNew);
                Assert.True(ours[i].SequenceEqual(theirs), $"\"{Prompts[i]}\": dro generate [{string.Join(", ", ours[i])}] vs llama.cpp [{string.Join(", ", theirs)}]");
            }
        }
    }

    [Fact]
    public void ExportPrintsWhatItWroteAndInspectReadsItBack()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string gguf = Path.Combine(dir, "policy.q8_0.gguf");
            string printed = CliRunner.Ok("export", "gguf", "--model", models.Model("qwen3-tiny"), "--out", gguf, "--type", "q8_0");
            Assert.Contains($"wrote {Path.GetFullPath(gguf)} ({new FileInfo(gguf).Length:N0} bytes", printed);
            Assert.Contains("architecture: qwen3", printed);
            Assert.Contains("type: q8_0", printed);
            Assert.Contains("tensors: 24 (output head tied to token_embd)", printed);
            Assert.Contains("tokenizer: gpt2, pre-tokenizer gpt-2", printed);
            Assert.Contains("chat template: no", printed);
            Assert.Equal([gguf], Directory.GetFiles(dir)); // no temporary file left

            int vocab = DroSharp.Text.Tokenizer.FromFile(models.Tokenizer).VocabSize;
            string listing = CliRunner.Ok("gguf", "inspect", gguf);
            Assert.Contains("general.architecture str = \"qwen3\"", listing);
            Assert.Contains("general.name str = \"qwen3-tiny-run\"", listing); // RUN/final is named after the run
            Assert.Contains("general.file_type u32 = 7", listing);
            Assert.Contains($"tokenizer.ggml.tokens arr[str,{vocab}] = [\"<pad>\", \"</s>\", \"<unk>\"", listing);
            Assert.Contains("blk.1.attn_q.weight q8_0 [64, 64] 4352 bytes", listing);

            var json = JsonNode.Parse(CliRunner.Ok("gguf", "inspect", gguf, "--json", "--max-array", "0"))!;
            Assert.Equal("qwen3", json["architecture"]!.GetValue<string>());
            Assert.Equal(new FileInfo(gguf).Length, json["file_bytes"]!.GetValue<long>());
            var tokens = json["metadata"]!["tokenizer.ggml.tokens"]!;
            Assert.Equal($"arr[str,{vocab}]", tokens["type"]!.GetValue<string>());
            Assert.Equal(vocab, tokens["value"]!.AsArray().Count);
            Assert.Equal(1, json["metadata"]!["tokenizer.ggml.eos_token_id"]!["value"]!.GetValue<int>());
            var tensors = json["tensors"]!.AsArray();
            Assert.Equal(24, tensors.Count);
            var embd = tensors.Single(t => t!["name"]!.GetValue<string>() == "token_embd.weight")!;
            Assert.Equal("q8_0", embd["type"]!.GetValue<string>());
            Assert.Equal(new[] { vocab, 64 }, embd["shape"]!.AsArray().Select(x => x!.GetValue<int>()));
        }
    }

    private static void AssertOneLineUserError((int Exit, string Out, string Err) r, params string[] expected)
    {
        Assert.True(r.Exit == 1, $"exit {r.Exit}: {r.Err}");
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", r.Err);
        foreach (string e in expected) Assert.Contains(e, r.Err);
    }

    [Fact]
    public void ExportRefusesWithOneLineNamingTheProblem()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string model = models.Model("llama-tiny"), gguf = Path.Combine(dir, "out.gguf");

            // An existing --out is kept unless --force.
            File.WriteAllText(gguf, "precious");
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", model, "--out", gguf), "exists", "--force");
            Assert.Equal("precious", File.ReadAllText(gguf));
            CliRunner.Ok("export", "gguf", "--model", model, "--out", gguf, "--force");
            Assert.Equal("GGUF", File.ReadAllText(gguf)[..4]);

            // A model llama.cpp would compute differently: the config key is named; a forced replacement that fails leaves the old file.
            string mistral = Path.Combine(dir, "mistral");
            CliRunner.Ok("init", "--preset", "mistral-tiny", "--tokenizer", models.Tokenizer, "--out", mistral);
            long before = new FileInfo(gguf).Length;
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", mistral, "--out", gguf, "--force"), "config.json", "'sliding_window'", "llama.cpp");
            Assert.Equal(before, new FileInfo(gguf).Length);
            Assert.Single(Directory.GetFiles(dir)); // no temporary file left

            // A LoRA adapter directory is merged into its base first: one that names no base is refused.
            string adapter = Path.Combine(dir, "adapter");
            Directory.CreateDirectory(adapter);
            File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), """{"peft_type": "LORA", "r": 8}""");
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", adapter, "--out", Path.Combine(dir, "a.gguf")), "adapter_config.json", "base_model_name_or_path");

            // No tokenizer, a run directory instead of its model, a bad --type, a missing directory.
            string bare = Path.Combine(dir, "bare");
            CliRunner.Ok("init", "--preset", "llama-tiny", "--out", bare);
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", bare, "--out", Path.Combine(dir, "b.gguf")), "tokenizer.json", "--tokenizer");
            CliRunner.Ok("export", "gguf", "--model", bare, "--tokenizer", models.Directory, "--out", Path.Combine(dir, "b.gguf"));
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", Path.GetDirectoryName(model)!, "--out", Path.Combine(dir, "c.gguf")), "run directory", "final");
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", model, "--out", Path.Combine(dir, "c.gguf"), "--type", "q4_k"), "--type", "q8_0");
            AssertOneLineUserError(CliRunner.Run("export", "gguf", "--model", Path.Combine(dir, "nope"), "--out", Path.Combine(dir, "c.gguf")), "nope");
            Assert.False(File.Exists(Path.Combine(dir, "c.gguf")));

            // inspect: not a GGUF file, no such file.
            AssertOneLineUserError(CliRunner.Run("gguf", "inspect", Path.Combine(model, "config.json")), "GGUF");
            AssertOneLineUserError(CliRunner.Run("gguf", "inspect", Path.Combine(dir, "missing.gguf")), "missing.gguf");
        }
    }
}
