using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// A chat product's feedback log (each row a conversation and a thumb on the last answer, in TRL's conversational
/// columns), a ChatML template, and a tiny Qwen3 model whose byte-level BPE tokenizer has the template's special
/// tokens — all made through the CLI (<c>dro tokenizer train --special-tokens</c>, <c>dro init --chat-template</c>).
/// </summary>
internal sealed class ConversationFixture : IDisposable
{
    public const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public static readonly string[] Colors = FeedbackFixture.Colors;

    private readonly TempDirectory _temp = new("drosharp-cli-");

    public ConversationFixture(bool withTemplate = true)
    {
        Dir = _temp.Path;
        TemplateFile = Path.Combine(Dir, "chatml.jinja");
        File.WriteAllText(TemplateFile, ChatMl);
        Log = WriteLog("log.jsonl", prompts: 24, seed: 3);
        string tok = System.IO.Path.Combine(Dir, "tokenizer.json");
        CliRunner.Ok("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", "--data", Log, "--out", tok, "--special-tokens", "<|im_start|>,<|im_end|>");
        Model = System.IO.Path.Combine(Dir, "m0");
        string[] chat = withTemplate ? ["--chat-template", TemplateFile, "--eos-token", "<|im_end|>"] : [];
        CliRunner.Ok(["init", "--preset", "qwen3-tiny", "--tokenizer", tok, "--out", Model, "--seed", "7", .. chat]);
    }

    public string Dir { get; }

    public string TemplateFile { get; }

    /// <summary>prompt (messages) / completion (messages) / label rows.</summary>
    public string Log { get; }

    public string Model { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Dir, name);

    public static string Question(int i) => $"what colour is thing {i % 12}?";

    public static object User(string content) => new { role = "user", content };

    public static object Assistant(string content) => new { role = "assistant", content };

    /// <summary>Every (question, colour) as a conversational prompt/completion row, for dro score (written once).</summary>
    public string Probe()
    {
        string probe = PathOf("probe.jsonl");
        if (File.Exists(probe)) return probe;
        using var w = new StreamWriter(probe);
        for (int i = 0; i < 12; i++)
            foreach (var c in Colors)
                w.WriteLine(JsonSerializer.Serialize(new { prompt = new[] { User(Question(i)) }, completion = new[] { Assistant($"it is {c}") } }));
        return probe;
    }

    /// <summary>Sequence log-probs of <paramref name="data"/>'s rows under <paramref name="model"/>, through dro score.</summary>
    public double[] Scores(string model, string data)
    {
        string outFile = PathOf(Guid.NewGuid().ToString("N") + ".scores.jsonl");
        CliRunner.Ok("score", "--model", model, "--data", data, "--out", outFile);
        return ReadJsonl(outFile).Select(e => e.GetProperty("logprob").GetDouble()).ToArray();
    }

    /// <summary>Mean log-prob margin of the right colour over the others on <see cref="Probe"/>, scored through dro score's conversational path.</summary>
    public double Margin(string model)
    {
        var lp = Scores(model, Probe());
        int n = Colors.Length;
        Assert.Equal(12 * n, lp.Length);
        double margin = 0;
        for (int i = 0; i < 12; i++)
        {
            int right = Array.IndexOf(Colors, FeedbackFixture.RightColor(i));
            var row = lp.Skip(i * n).Take(n).ToArray();
            margin += row[right] - row.Where((_, j) => j != right).Average();
        }
        return margin / 12;
    }

    /// <summary>Each prompt asks for a colour; several replies were logged and only the one naming the prompt's colour got a thumbs-up.</summary>
    public string WriteLog(string name, int prompts, int seed)
    {
        var rng = new Random(seed);
        string path = PathOf(name);
        using var w = new StreamWriter(path);
        for (int i = 0; i < prompts; i++)
            foreach (var c in Colors.OrderBy(_ => rng.Next()).Take(3).Append(FeedbackFixture.RightColor(i)).Distinct())
                w.WriteLine(JsonSerializer.Serialize(new
                {
                    prompt = new[] { User(Question(i)) },
                    completion = new[] { Assistant($"it is {c}") },
                    label = c == FeedbackFixture.RightColor(i),
                }));
        return path;
    }

    /// <summary>Whole conversations for SFT: the right answer to each question.</summary>
    public string WriteMessages(string name, int prompts)
    {
        string path = PathOf(name);
        using var w = new StreamWriter(path);
        for (int i = 0; i < prompts; i++)
            w.WriteLine(JsonSerializer.Serialize(new { messages = new[] { User(Question(i)), Assistant($"it is {FeedbackFixture.RightColor(i)}") } }));
        return path;
    }

    /// <summary>Preference pairs, half with an explicit prompt and half with TRL's implicit prompt.</summary>
    public string WritePairs(string name, int prompts)
    {
        string path = PathOf(name);
        using var w = new StreamWriter(path);
        for (int i = 0; i < prompts; i++)
        {
            string right = $"it is {FeedbackFixture.RightColor(i)}", wrong = "it is black";
            w.WriteLine(i % 2 == 0
                ? JsonSerializer.Serialize(new { prompt = new[] { User(Question(i)) }, chosen = new[] { Assistant(right) }, rejected = new[] { Assistant(wrong) } })
                : JsonSerializer.Serialize(new { chosen = new[] { User(Question(i)), Assistant(right) }, rejected = new[] { User(Question(i)), Assistant(wrong) } }));
        }
        return path;
    }

    /// <summary>Runs <c>dro</c> with <paramref name="input"/> as standard input.</summary>
    public static (int Exit, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        var old = Console.In;
        Console.SetIn(new StringReader(input));
        try { return CliRunner.Run(args); }
        finally { Console.SetIn(old); }
    }

    public static List<JsonElement> ReadJsonl(string path) =>
        File.ReadLines(path).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    public void Dispose() => _temp.Dispose();
}
