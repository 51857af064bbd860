using System.Text.Json.Nodes;
using DroSharp.Models.Tests.Gguf;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Lora;

/// <summary>
/// The LoRA fixtures (Fixtures/lora: adapters on the qwen3 golden and t5-tiny with transformers'
/// log-probs of the merged models), a scratch directory, and scoring helpers.
/// </summary>
internal sealed class LoraTestFiles : IDisposable
{
    private readonly TempDirectory _scratch = new("drosharp-lora-");

    public string Directory => _scratch.Path;

    public string PathFor(string name) => _scratch.File(name);

    /// <summary>Fixtures/lora/NAME (qwen3, t5-tiny).</summary>
    public static string Adapter(string name) => Path.Combine(GgufTestFiles.FixturesRoot(), "lora", name);

    /// <summary>The base model each adapter fixture was made on.</summary>
    public static string BaseOf(string name) => name switch
    {
        "qwen3" => GgufTestFiles.Decoder("qwen3"),
        "t5-tiny" => Path.Combine(GgufTestFiles.FixturesRoot(), "t5-tiny"),
        _ => throw new ArgumentException(name),
    };

    public sealed record Row(int[] Prompt, int[] Completion);

    public static List<Row> Rows(string adapterName) =>
        File.ReadLines(Path.Combine(Adapter(adapterName), "inputs.jsonl")).Where(l => l.Trim().Length > 0).Select(l =>
        {
            var o = JsonNode.Parse(l)!;
            return new Row(o["prompt_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray(), o["completion_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray());
        }).ToList();

    /// <summary>expected.json: transformers' per-token log-probs of the merged model.</summary>
    public static double[][] ExpectedTokenLogps(string adapterName) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Adapter(adapterName), "expected.json")))!["token_logps"]!.AsArray()
            .Select(r => r!.AsArray().Select(x => x!.GetValue<double>()).ToArray()).ToArray();

    /// <summary>Per-token log-probs of every row, in one right-padded batch, no gradient.</summary>
    public static double[][] TokenLogps(IPolicyModel model, IReadOnlyList<Row> rows)
    {
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        using var batch = model.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        var lp = model.Forward(batch).TokenLogProbs;
        int len = lp.Shape[1];
        return rows.Select((r, i) => Enumerable.Range(0, r.Completion.Length).Select(t => (double)lp[i * len + t]).ToArray()).ToArray();
    }

    /// <summary>Fills every adapter B with N(0, std²) so that adapted models differ from their base.</summary>
    public static void PerturbB(IEnumerable<Tensors.Modules.LoraAdapter> adapters, ulong seed, double std = 0.05)
    {
        var rng = new DeterministicRandom(seed);
        foreach (var a in adapters)
            for (int i = 0; i < a.B.Length; i++) a.B[i] = (float)(rng.NextGaussian() * std);
    }

    public static double MaxAbsDiff(double[][] a, double[][] b) => a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));

    public void Dispose() => _scratch.Dispose();
}
