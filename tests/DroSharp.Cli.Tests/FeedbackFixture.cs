using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// A generated feedback log: each prompt asks for a colour, several responses were logged, and only
/// the response naming the prompt's "right" colour got a thumbs-up.
/// </summary>
internal static class FeedbackFixture
{
    public static readonly string[] Colors = ["red", "green", "blue", "yellow", "black", "white"];

    public static string RightColor(int prompt) => Colors[prompt % 3 == 0 ? 2 : prompt % 3 == 1 ? 0 : 1];

    public static string Prompt(int i) => $"what colour is thing {i % 12} please";

    /// <summary>Writes data.jsonl (feedback) and returns its path.</summary>
    public static string Write(string dir, int prompts = 36, int seed = 1)
    {
        var rng = new Random(seed);
        string path = Path.Combine(dir, "data.jsonl");
        using var w = new StreamWriter(path);
        for (int i = 0; i < prompts; i++)
            foreach (var c in Colors.OrderBy(_ => rng.Next()).Take(4).Append(RightColor(i)).Distinct())
                w.WriteLine(JsonSerializer.Serialize(new { prompt = Prompt(i), completion = $"it is {c}", label = c == RightColor(i) }));
        return path;
    }
}
