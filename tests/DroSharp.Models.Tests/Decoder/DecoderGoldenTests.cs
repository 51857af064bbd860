using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Decoder;
using DroSharp.Models.Tests.Gguf;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Decoder;

/// <summary>
/// The 20 tiny decoder-only models of transformers 4.55.0's own code (Fixtures/decoders, made by the
/// oracle): every family with its quirks on, bf16 files, RoPE scaling past the original context.
/// All rows go through one right-padded batch, so padding is exercised too. Tolerance: 1e-5 of each
/// tensor's largest magnitude (float32 against float32).
/// </summary>
public sealed class DecoderGoldenTests
{
    public static TheoryData<string> Models() => new(Directory.GetDirectories(Path.Combine(GgufTestFiles.FixturesRoot(), "decoders")).Select(Path.GetFileName)!);

    public static TheoryData<string> ModelsWithGradients() =>
        new(Directory.GetDirectories(Path.Combine(GgufTestFiles.FixturesRoot(), "decoders"))
            .Where(d => File.Exists(Path.Combine(d, "expected_grads.safetensors"))).Select(Path.GetFileName)!);

    private static (DecoderForCausalLM Model, List<GgufTestFiles.Row> Rows, double[] Weights, JsonObject Expected) Load(string name)
    {
        string dir = GgufTestFiles.Decoder(name);
        var model = (DecoderForCausalLM)ModelFamilies.LoadPolicy(dir);
        var rows = GgufTestFiles.GoldenRows(dir);
        var weights = File.ReadLines(Path.Combine(dir, "inputs.jsonl")).Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!["weight"]!.GetValue<double>()).ToArray();
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")))!.AsObject();
        return (model, rows, weights, expected);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TokenLogProbsAndLastLogitsMatchTransformers(string name)
    {
        var (model, rows, _, expected) = Load(name);
        using var _m = model;
        using var tape = new Tape(recording: false);
        using var _t = tape.Activate();
        using var batch = model.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        var lp = model.Forward(batch).TokenLogProbs;
        var got = new List<double>();
        var want = new List<double>();
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Completion.Length; j++)
            {
                got.Add(lp[i * batch.CompletionLength + j]);
                want.Add(rows[i].ExpectedLogps[j]);
            }
        Numerics.AssertCloseToMax(want.ToArray(), got.ToArray(), relative: 1e-5, what: $"{name} token log-probs");

        var last = model.NextTokenLogits([rows[0].Prompt], [rows[0].Completion]);
        var expectedLast = expected["last_logits_row0"]!.AsArray().Select(x => x!.GetValue<double>()).ToList();
        Numerics.AssertCloseToMax(expectedLast.ToArray(), last.ToArray().Select(x => (double)x).ToArray(), relative: 1e-5, what: $"{name} last logits of row 0");
    }

    [Theory]
    [MemberData(nameof(ModelsWithGradients))]
    public void GradientsOfTheWeightedLogProbSumMatchTransformers(string name)
    {
        var (model, rows, weights, expected) = Load(name);
        using var _m = model;
        string dir = GgufTestFiles.Decoder(name);
        using var tape = new Tape();
        using var batch = model.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        Tensor seq;
        using (tape.Activate()) seq = PolicyScoring.SequenceLogProbs(model.Forward(batch), batch, lengthNormalize: false);
        double sum = 0;
        for (int i = 0; i < rows.Count; i++) sum += weights[i] * seq[i];
        Assert.True(Math.Abs(sum - expected["weighted_logp_sum"]!.GetValue<double>()) <= 1e-5 * Math.Abs(sum) + 1e-4, $"weighted sum {sum} vs {expected["weighted_logp_sum"]}");
        using var g = Tensor.FromArray(weights.Select(w => (float)w).ToArray(), new Shape(rows.Count));
        tape.Backward([(seq, g)]);

        using var grads = SafetensorsReader.Open(Path.Combine(dir, "expected_grads.safetensors"));
        int checkedCount = 0;
        foreach (var p in model.Parameters.All)
        {
            string key = grads.TensorNames.Contains("grad." + p.Name) ? "grad." + p.Name : p.Name!;
            Assert.True(grads.TensorNames.Contains(key), $"{name}: no expected gradient for {p.Name} (have {string.Join(", ", grads.TensorNames.Take(5))} …)");
            using var e = grads.ReadTensor(key);
            Assert.NotNull(p.Grad);
            // floor: a gradient that is zero in exact arithmetic (a key bias in a layer without RoPE: softmax
            // ignores a per-row shift) is float noise in both, so the tolerance is relative to at least 0.05.
            Numerics.AssertCloseToMax(e.Span, p.Grad!.Span, relative: 1e-5, floor: 0.05, what: $"{name} d/d{p.Name}");
            checkedCount++;
        }
        Assert.Equal(grads.TensorNames.Count, checkedCount);
    }
}
