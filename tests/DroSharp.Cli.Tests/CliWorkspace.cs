namespace DroSharp.Cli.Tests;

/// <summary>
/// A temporary directory with what most command tests need, made once per test class: feedback data (data.jsonl),
/// a word-level tokenizer (tok.json) and a t5-tiny model using it (m0). Deleted on dispose.
/// </summary>
public sealed class CliWorkspace : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-cli-");

    public CliWorkspace() : this(prompts: 36) { }

    /// <param name="prompts">Prompts of the feedback log (<see cref="FeedbackFixture.Write"/>). Not public: a class
    /// fixture may have one public constructor.</param>
    internal CliWorkspace(int prompts)
    {
        Root = _temp.Path;
        Data = FeedbackFixture.Write(Root, prompts);
        Tokenizer = Path.Combine(Root, "tok.json");
        Model = Path.Combine(Root, "m0");
        CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", Data, "--out", Tokenizer);
        CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", Tokenizer, "--out", Model, "--seed", "5");
    }

    public string Root { get; }

    public string Data { get; }

    public string Tokenizer { get; }

    public string Model { get; }

    /// <summary>A fresh path under the workspace (nothing created).</summary>
    public string New(string name) => Path.Combine(Root, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);

    /// <summary>Writes a file under the workspace and returns its path.</summary>
    public string Write(string name, string content)
    {
        string path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => _temp.Dispose();
}
