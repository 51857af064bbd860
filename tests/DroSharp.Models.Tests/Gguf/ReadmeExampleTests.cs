using System.Runtime.CompilerServices;
using System.Text;
using DroSharp.Models.Gguf;
using LLama;
using LLama.Common;
using LLama.Sampling;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>
/// The C# of README.md's "Align with dro, deploy with LLamaSharp" section (and of docs/gguf.md) is compiled and
/// run here, so that it cannot rot: <see cref="RunTheReadmeCode"/> holds the same lines (the README's first line
/// names the paths, the test gives its own), and a test checks the documents still show exactly these lines.
/// </summary>
[Collection("llama.cpp")]
public sealed class ReadmeExampleTests
{
    /// <summary>Captures what the README code writes with <c>Console.Write</c> (the name shadows System.Console here).</summary>
    private static class Console
    {
        public static readonly StringBuilder Output = new();
        public static void Write(string text) => Output.Append(text);
    }

    private static async Task RunTheReadmeCode(string model, string gguf)
    {
        // README:begin
        GgufExporter.Export(model, gguf, GgufFileType.Q8_0); // what `dro export gguf` does
        var parameters = new ModelParams(gguf) { ContextSize = 1024 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        var executor = new StatelessExecutor(weights, parameters);
        var greedy = new InferenceParams { MaxTokens = 64, SamplingPipeline = new GreedySamplingPipeline() };
        await foreach (string piece in executor.InferAsync("what colour is thing 3 please", greedy))
            Console.Write(piece);
        // README:end
    }

    [Fact]
    public async Task TheReadmeCodeExportsLoadsAndGenerates()
    {
        LlamaCppModel.ClearLog(); // llama.cpp's log goes to LlamaCppModel.Log, set before the native library loads
        using var files = new GgufTestFiles();
        string model = TinyDecoders.Write(files, "llama-tiny", seed: 21);
        Console.Output.Clear();
        await RunTheReadmeCode(model, files.PathFor("policy.q8_0.gguf"));
        Assert.True(File.Exists(files.PathFor("policy.q8_0.gguf")));
        Assert.NotEqual("", Console.Output.ToString());
    }

    [Theory]
    [InlineData("README.md", "## Align with `dro`, deploy with LLamaSharp")]
    [InlineData("docs/gguf.md", "# GGUF export")]
    public void TheDocumentsShowTheTestedCode(string document, string heading)
    {
        string root = Path.GetFullPath(Path.Combine(GgufTestFiles.FixturesRoot(), "..", "..", ".."));
        var lines = File.ReadAllLines(Path.Combine(root, document));
        int section = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(section >= 0, $"{document} has no heading {heading}");
        int start = Array.FindIndex(lines, section, l => l.Trim() == "```csharp") + 1;
        Assert.True(start > 0, $"{document}: no ```csharp block after {heading}");
        int end = Array.FindIndex(lines, start, l => l.Trim() == "```");
        var block = lines[start..end].Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)).ToList();

        var source = File.ReadAllLines(ThisFile());
        var usings = block.Where(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("using var ", StringComparison.Ordinal)).ToList();
        foreach (string u in usings) Assert.Contains(u, source);
        var code = block.Except(usings).ToList();
        Assert.StartsWith("string model = ", code[0]);
        int begin = Array.FindIndex(source, l => l.Trim() == "// README:begin") + 1, stop = Array.FindIndex(source, l => l.Trim() == "// README:end");
        var tested = source[begin..stop].Select(l => l.Trim()).ToList();
        Assert.Equal(tested, code.Skip(1).Select(l => l.Trim()).ToList());
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
