using System.CommandLine;

namespace DroSharp.Cli.Tests;

/// <summary>
/// Walks the error cases of every command: each must exit 1 with exactly one error line on stderr, "dro: …" (or
/// System.CommandLine's own one-line parse error), naming what is wrong, and no stack trace anywhere. Issue 15 found .NET
/// stack traces with exit code 2 for many of these.
/// <para>
/// Extension point: a command added to <see cref="Program.BuildRoot"/> must get cases in <see cref="Cases"/>; until
/// it has, <see cref="EveryCommandHasErrorCases"/> fails naming it, unless it is listed in <see cref="Pending"/>.
/// </para>
/// </summary>
public sealed class CliErrorWalkTests(CliWorkspace w) : IClassFixture<CliWorkspace>
{
    /// <summary>Commands being added in parallel (issue numbers in their branches): add their cases below, then remove them here.</summary>
    private static readonly HashSet<string> Pending = [];

    /// <summary>(command path, arguments, a word the message must contain).</summary>
    public static IEnumerable<(string Command, string[] Args, string Expect)> Cases(CliWorkspace w)
    {
        string m0 = w.Model, data = w.Data, tok = w.Tokenizer;
        string empty = w.Write("empty.jsonl", "");
        string oov = w.Write("oov.jsonl", "{\"prompt_ids\": [3, 4], \"completion_ids\": [100000, 1]}\n");
        string oovPrompt = w.Write("oov-prompt.jsonl", "{\"prompt_ids\": [3, 100000]}\n");
        string badJson = w.Write("bad.json", "{ not json");
        string swishT5 = w.Write("swish-t5.json", "{\"model_type\": \"t5\", \"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 8, \"vocab_size\": 16, \"dense_act_fn\": \"swish\"}");
        string hugeT5 = w.Write("huge-t5.json", "{\"model_type\": \"t5\", \"d_model\": 65536, \"d_ff\": 65536, \"num_layers\": 4, \"num_heads\": 8, \"d_kv\": 64}");
        string runNoCheckpoint = Path.Combine(w.Root, "run-no-checkpoint");
        Directory.CreateDirectory(runNoCheckpoint);
        File.WriteAllText(Path.Combine(runNoCheckpoint, "run.json"), $$"""{"model": "{{m0}}", "data": "{{data}}", "out": "{{runNoCheckpoint}}", "max_steps": 2}""");
        string noTokenizer = Path.Combine(w.Root, "m-no-tokenizer");
        if (!Directory.Exists(noTokenizer))
        {
            Directory.CreateDirectory(noTokenizer);
            foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(m0, f), Path.Combine(noTokenizer, f));
        }
        string unkTokenizer = w.Write("unk-tokenizer.json", """
            {"added_tokens": [], "pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "WordLevel", "vocab": {"<pad>": 0, "</s>": 1, "hello": 2}, "unk_token": "<nope>"}}
            """);

        // train
        yield return ("train", ["--data", data, "--out", w.New("r")], "--model");
        yield return ("train", ["--algo", "nope", "--model", m0, "--data", data, "--out", w.New("r")], "--algo");
        yield return ("train", ["--model", Path.Combine(w.Root, "missing"), "--data", data, "--out", w.New("r")], "missing");
        yield return ("train", ["--model", data, "--data", data, "--out", w.New("r")], "is a file");
        yield return ("train", ["--model", m0, "--data", w.Root, "--out", w.New("r")], "is a directory");
        yield return ("train", ["--model", m0, "--data", Path.Combine(w.Root, "missing.jsonl"), "--out", w.New("r")], "missing.jsonl");
        yield return ("train", ["--model", m0, "--data", "/dev/stdin", "--out", w.New("r")], "standard input");
        yield return ("train", ["--model", m0, "--data", data, "--out", data], "is a file");
        yield return ("train", ["--model", m0, "--data", empty, "--out", w.New("r")], "no rows");
        yield return ("train", ["--model", noTokenizer, "--data", data, "--out", w.New("r")], "tokenizer.json");
        yield return ("train", ["--model", m0, "--data", data, "--out", w.New("r"), "--config", badJson], "bad.json");
        yield return ("train", ["--resume", w.Root], "run.json");
        yield return ("train", ["--resume", runNoCheckpoint], "original command");
        yield return ("train", ["--model", m0, "--data", data, "--out", w.New("r"), "--allow-changed-inputs"], "--resume");
        yield return ("train", ["--model", m0, "--data", data, "--out", w.New("r"), "--batch-size", "0"], "--batch-size");
        // init
        yield return ("init", ["--out", w.New("m")], "--preset");
        yield return ("init", ["--preset", "nope", "--out", w.New("m")], "nope");
        yield return ("init", ["--config", Path.Combine(w.Root, "missing.json"), "--out", w.New("m")], "missing.json");
        yield return ("init", ["--config", badJson, "--out", w.New("m")], "bad.json");
        yield return ("init", ["--config", hugeT5, "--out", w.New("m")], "huge-t5.json");
        yield return ("init", ["--config", swishT5, "--out", w.New("m")], "dense_act_fn");
        yield return ("init", ["--preset", "t5-tiny", "--tokenizer", badJson, "--out", w.New("m")], "bad.json");
        yield return ("init", ["--preset", "t5-tiny", "--out", m0], "--force");
        yield return ("init", ["--preset", "t5-tiny", "--out", data], "is a file");
        // score
        yield return ("score", ["--model", Path.Combine(w.Root, "missing"), "--data", data, "--out", w.New("s")], "missing");
        yield return ("score", ["--model", data, "--data", data, "--out", w.New("s")], "is a file");
        yield return ("score", ["--model", m0, "--data", Path.Combine(w.Root, "missing.jsonl"), "--out", w.New("s")], "missing.jsonl");
        yield return ("score", ["--model", m0, "--data", data, "--out", data], "--data input");
        yield return ("score", ["--model", m0, "--data", data, "--out", Path.Combine(w.Root, "no-such-dir", "s.jsonl")], "no-such-dir");
        yield return ("score", ["--model", m0, "--data", data, "--out", w.Root], "is a directory");
        yield return ("score", ["--model", m0, "--data", oov, "--out", w.New("s")], "vocabulary");
        yield return ("score", ["--model", m0, "--data", data, "--out", w.New("s"), "--batch-size", "0"], "--batch-size");
        yield return ("score", ["--model", m0, "--data", data, "--out", w.New("s"), "--max-prompt-length", "0"], "--max-prompt-length");
        // generate
        yield return ("generate", ["--model", data, "--prompts", data, "--out", w.New("g")], "is a file");
        yield return ("generate", ["--model", m0, "--prompts", Path.Combine(w.Root, "missing.jsonl"), "--out", w.New("g")], "missing.jsonl");
        yield return ("generate", ["--model", m0, "--prompts", w.Root, "--out", w.New("g")], "is a directory");
        yield return ("generate", ["--model", m0, "--prompts", data, "--out", data], "--prompts input");
        yield return ("generate", ["--model", m0, "--prompts", oovPrompt, "--out", w.New("g")], "vocabulary");
        yield return ("generate", ["--model", m0, "--prompts", data, "--out", w.New("g"), "--temperature", "-1"], "--temperature");
        yield return ("generate", ["--model", noTokenizer, "--prompts", data, "--out", w.New("g")], "tokenizer.json");
        // tokenizer
        yield return ("tokenizer train", ["--type", "wordlevel", "--data", Path.Combine(w.Root, "missing.jsonl"), "--out", w.New("t")], "missing.jsonl");
        yield return ("tokenizer train", ["--type", "wordlevel", "--data", data, "--out", data], "--data input");
        yield return ("tokenizer train", ["--type", "bpe", "--vocab-size", "10", "--data", data, "--out", w.New("t")], "--vocab-size");
        yield return ("tokenizer train", ["--type", "wordlevel", "--data", empty, "--out", w.New("t")], "no texts");
        yield return ("tokenizer train", ["--type", "wordlevel", "--data", data, "--out", Path.Combine(w.Root, "no-such-dir", "t.json")], "no-such-dir");
        yield return ("tokenizer encode", ["--tokenizer", Path.Combine(w.Root, "missing.json"), "hello"], "missing.json");
        yield return ("tokenizer encode", ["--tokenizer", badJson, "hello"], "bad.json");
        yield return ("tokenizer encode", ["--tokenizer", unkTokenizer, "hello stranger"], "<nope>");
        yield return ("tokenizer encode", ["--tokenizer", tok], ""); // the text argument is missing: a parse error
        // bench
        yield return ("bench gemm", ["--shape", "0x5x5"], "--shape");
        yield return ("bench forward", ["--preset", "nope"], "nope");
        yield return ("bench forward", ["--preset", "t5-tiny", "--batch", "0"], "--batch");
        yield return ("bench step", ["--preset", "t5-tiny", "--batch", "-1"], "--batch");
        // experiment and demo
        yield return ("experiment", ["--seeds", "1"], "--out");
        yield return ("experiment", ["--out", w.New("e"), "--seeds", "0"], "--seeds");
        yield return ("experiment", ["--out", w.New("e"), "--task", "nope"], "nope");
        yield return ("experiment", ["--out", w.New("e"), "--algos", "foo"], "foo");
        yield return ("experiment", ["--render", w.Root], "results.json");
        yield return ("demo", ["--out", Path.Combine(data, "sub")], "sub");
        // chat, template
        yield return ("chat", ["--model", Path.Combine(w.Root, "missing")], "missing");
        yield return ("chat", ["--model", m0, "--chat-template", Path.Combine(w.Root, "missing.jinja")], "missing.jinja");
        yield return ("template", ["--model", m0, "--data", Path.Combine(w.Root, "missing.jsonl")], "missing.jsonl");
        yield return ("template", ["--model", Path.Combine(w.Root, "missing"), "--data", data], "missing");
        // export gguf, gguf inspect, merge
        yield return ("export gguf", ["--model", Path.Combine(w.Root, "missing"), "--out", w.New("x.gguf")], "missing");
        yield return ("export gguf", ["--model", m0, "--out", w.New("x.gguf"), "--type", "q4"], "--type");
        yield return ("export gguf", ["--model", m0, "--out", w.New("x.gguf")], "t5"); // T5 is not a llama.cpp architecture
        yield return ("gguf inspect", [Path.Combine(w.Root, "missing.gguf")], "missing.gguf");
        yield return ("gguf inspect", [data], "GGUF");
        yield return ("merge", ["--adapter", w.Root, "--out", w.New("m")], "adapter_config.json");
        yield return ("merge", ["--adapter", Path.Combine(w.Root, "missing"), "--out", w.New("m")], "missing");
        // report
        yield return ("report", [Path.Combine(w.Root, "missing")], "missing");
        yield return ("report", [m0], "run.json"); // a model directory, not a run
    }

    [Fact]
    public void EveryErrorIsOneLineWithExitCodeOne()
    {
        var failures = new List<string>();
        int n = 0;
        foreach (var (command, args, expect) in Cases(w))
        {
            n++;
            string[] full = [.. command.Split(' '), .. args];
            var (code, _, err) = CliRunner.Run(full);
            // The error is the "dro: " line (progress and data summaries may come before it), or System.CommandLine's own line.
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var errors = lines.Any(l => l.StartsWith("dro: ", StringComparison.Ordinal)) ? lines.Where(l => l.StartsWith("dro: ", StringComparison.Ordinal)).ToList() : lines.ToList();
            string? problem = code != 1 ? $"exit code {code}"
                : errors.Count != 1 ? $"{errors.Count} error lines"
                : err.Contains("   at ", StringComparison.Ordinal) || errors[0].Contains("Exception", StringComparison.Ordinal) ? "a stack trace or exception name"
                : !errors[0].Contains(expect, StringComparison.Ordinal) ? $"no \"{expect}\" in the message"
                : null;
            if (problem is not null) failures.Add($"dro {string.Join(' ', full)}: {problem}\n{err}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} error cases failed:\n\n{string.Join("\n\n", failures)}");
    }

    [Fact]
    public void EveryCommandHasErrorCases()
    {
        var covered = Cases(w).Select(c => c.Command).ToHashSet();
        var missing = new List<string>();
        void Walk(Command c, string path)
        {
            if (c.Subcommands.Count == 0 && !covered.Contains(path) && !Pending.Contains(path) && !Pending.Contains(path.Split(' ')[0])) missing.Add(path);
            foreach (var s in c.Subcommands) Walk(s, path.Length == 0 ? s.Name : $"{path} {s.Name}");
        }
        foreach (var c in Program.BuildRoot().Subcommands) Walk(c, c.Name);
        Assert.True(missing.Count == 0, $"commands without error cases in CliErrorWalkTests.Cases: {string.Join(", ", missing)}");
    }
}
