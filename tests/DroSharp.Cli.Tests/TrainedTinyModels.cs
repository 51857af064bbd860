using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// Two small models made the way a user makes them — <c>dro tokenizer train</c> (byte-level BPE), <c>dro init
/// --preset llama-tiny|qwen3-tiny</c>, a short <c>dro train --algo sft</c> so that predictions are confident —
/// shared by the <c>dro export gguf</c> / <c>dro gguf inspect</c> tests.
/// </summary>
public sealed class TrainedTinyModels : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-cli-");

    public TrainedTinyModels()
    {
        Directory = _temp.Path;
        Data = Path.Combine(Directory, "data.jsonl");
        string[] colours = ["red", "green", "blue", "yellow"];
        using (var w = new StreamWriter(Data))
            for (int i = 0; i < 160; i++)
                w.WriteLine(JsonSerializer.Serialize(new
                {
                    prompt = $"what colour is thing {i % 40} please",
                    completion = $"it is {colours[i % 4]} and the cat sat on the mat while the dog ran around the garden {i % 40}",
                }));
        Tokenizer = Path.Combine(Directory, "tokenizer.json");
        CliRunner.Ok("tokenizer", "train", "--type", "bpe", "--vocab-size", "400", "--data", Data, "--out", Tokenizer);
        foreach (string preset in new[] { "llama-tiny", "qwen3-tiny" })
        {
            string init = Path.Combine(Directory, preset), run = Path.Combine(Directory, preset + "-run");
            CliRunner.Ok("init", "--preset", preset, "--tokenizer", Tokenizer, "--out", init);
            CliRunner.Ok("train", "--algo", "sft", "--model", init, "--data", Data, "--out", run, "--lr", "3e-3", "--warmup-steps", "0",
                "--schedule", "constant", "--max-steps", "60", "--batch-size", "8", "--log-every", "20");
        }
    }

    public string Directory { get; }
    public string Data { get; }
    public string Tokenizer { get; }

    /// <summary>RUN/final of the SFT run of <paramref name="preset"/>.</summary>
    public string Model(string preset) => Path.Combine(Directory, preset + "-run", "final");

    public void Dispose() => _temp.Dispose();
}
