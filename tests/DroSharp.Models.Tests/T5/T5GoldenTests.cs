using DroSharp.Models;
using System.Text.Json;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.T5;
using DroSharp.Models.Tests.Checkpoints;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.T5;

/// <summary>
/// The t5-tiny golden files (computed by the PyTorch peer in float64): encoder output, logits,
/// per-token and per-sequence log-probs, values, the DRO-V loss, and its gradient for every policy
/// and value parameter, each within 3e-5 of the reference tensor's largest magnitude. Two models:
/// t5-tiny (v1.1: gated-gelu, untied head) and t5-tiny-v1 (v1.0: ReLU, tied head with the
/// d_model^-0.5 rescale, inner dim ≠ d_model, more decoder than encoder layers).
/// </summary>
public sealed class T5GoldenTests
{
    private const double Tolerance = 3e-5;
    private SafetensorsReader _expected = null!;
    private GoldenInputs _inputs = null!;
    private string _fixture = "";

    public static TheoryData<string> Fixtures => new() { "t5-tiny", "t5-tiny-v1" };

    private void Open(string name)
    {
        _fixture = Path.Combine(Path.GetDirectoryName(CheckpointTestFiles.TinyFixture)!, name);
        _expected = SafetensorsReader.Open(Path.Combine(_fixture, "expected.safetensors"));
        _inputs = GoldenInputs.Load(Path.Combine(_fixture, "inputs.json"));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void RelativePositionBucketsMatch(string fixture)
    {
        Open(fixture);
        using var _ = _expected;
        var rel = _expected.ReadInt64("buckets.relative_position");
        var bi = _expected.ReadInt64("buckets.bidirectional");
        var uni = _expected.ReadInt64("buckets.unidirectional");
        for (int i = 0; i < rel.Length; i++)
        {
            Assert.Equal(bi[i], RelativePositionBucket.Compute((int)rel[i], bidirectional: true, 32, 128));
            Assert.Equal(uni[i], RelativePositionBucket.Compute((int)rel[i], bidirectional: false, 32, 128));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ForwardAndDroGradientsMatchPyTorch(string fixture)
    {
        Open(fixture);
        using var _ = _expected;
        using var policy = T5ModelFiles.LoadPolicy(_fixture);
        using var value = new T5ValueModel(policy.Config);
        using (var src = SafetensorsReader.Open(Path.Combine(_fixture, "value.safetensors")))
            StateDictLoader.Load(src, value.Parameters.All);
        using var batch = _inputs.ToBatch(policy);
        int b = batch.Size;

        using var policyTape = new Tape();
        using var valueTape = new Tape();
        Tensor enc, logits, tokenLp, seqLp, values;
        using (policyTape.Activate())
        {
            enc = policy.Encode(batch.PromptIds, batch.PromptMask);
            var dec = policy.DecodeHidden(batch.DecoderInputIds, b, enc, batch.PromptMask);
            logits = policy.Logits(dec);
            tokenLp = Ops.Reshape(Ops.LogSoftmaxGather(logits, batch.Targets), new Shape(b, batch.CompletionLength));
            seqLp = Ops.SumLastAxis(tokenLp);
        }
        using (valueTape.Activate()) values = value.Forward(batch.PromptIds, batch.PromptMask);

        AssertMatchesGolden("encoder_hidden_first", enc.Span[..(batch.PromptLength * policy.Config.DModel)]);
        AssertMatchesGolden("logits_first", logits.Span[..(batch.CompletionLength * policy.Config.VocabSize)]);
        AssertMatchesGolden("token_logprobs", tokenLp.Span);
        AssertMatchesGolden("logprobs", seqLp.Span);
        AssertMatchesGolden("values", values.Span);

        // L = ½·mean_b (r − V − τ(logπ − logπ_ref))²: dL/dlogπ = −τ·res/B, dL/dV = −res/B (plain, unscaled).
        double tau = _inputs.Tau;
        var res = new float[b];
        double loss = 0;
        using var dLogp = Tensor.Zeros(new Shape(b));
        using var dV = Tensor.Zeros(new Shape(b));
        for (int i = 0; i < b; i++)
        {
            double r = _inputs.Rewards[i] - values[i] - tau * (seqLp[i] - _inputs.RefLogProbs[i]);
            res[i] = (float)r;
            loss += 0.5 * r * r / b;
            dLogp[i] = (float)(-tau * r / b);
            dV[i] = (float)(-r / b);
        }
        AssertMatchesGolden("dro_residual", res);
        AssertMatchesGolden("loss", new[] { (float)loss });

        policyTape.Backward(seqLp, dLogp);
        valueTape.Backward(values, dV);
        int checkedPolicy = 0, checkedValue = 0;
        foreach (var p in policy.Parameters.All)
        {
            Assert.NotNull(p.Grad);
            AssertMatchesGolden("grad." + p.Name, p.Grad!.Span);
            checkedPolicy++;
        }
        foreach (var p in value.Parameters.All)
        {
            Assert.NotNull(p.Grad);
            AssertMatchesGolden("value_grad." + p.Name, p.Grad!.Span);
            checkedValue++;
        }
        Assert.Equal(_expected.TensorNames.Count(n => n.StartsWith("grad.", StringComparison.Ordinal)), checkedPolicy);
        Assert.Equal(_expected.TensorNames.Count(n => n.StartsWith("value_grad.", StringComparison.Ordinal)), checkedValue);
    }

    /// <summary>Within <see cref="Tolerance"/> of the golden tensor's largest magnitude.</summary>
    private void AssertMatchesGolden(string name, ReadOnlySpan<float> actual)
    {
        using var expected = _expected.ReadTensor(name);
        Numerics.AssertCloseToMax(expected.Span, actual, relative: Tolerance, floor: 1e-12, what: name);
    }

    /// <summary>inputs.json of the golden directory.</summary>
    internal sealed record GoldenInputs(int[][] PromptIds, int[][] PromptMask, int[][] ResponseIds, int[][] ResponseMask,
        double[] Rewards, double[] RefLogProbs, double Tau)
    {
        public static GoldenInputs Load(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            int[][] Ints(string k) => root.GetProperty(k).EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
            double[] Doubles(string k) => root.GetProperty(k).EnumerateArray().Select(x => x.GetDouble()).ToArray();
            return new GoldenInputs(Ints("prompt_ids"), Ints("prompt_mask"), Ints("response_ids"), Ints("response_mask"),
                Doubles("rewards"), Doubles("ref_logprobs"), root.GetProperty("tau").GetDouble());
        }

        public Seq2SeqBatch ToBatch(T5ForConditionalGeneration model)
        {
            var prompts = PromptIds.Select((ids, i) => ids.Take(PromptMask[i].Sum()).ToArray()).ToList();
            var responses = ResponseIds.Select((ids, i) => ids.Take(ResponseMask[i].Sum()).ToArray()).ToList();
            return Seq2SeqBatch.Create(prompts, responses, model.PadId, model.DecoderStartId, PromptIds[0].Length, ResponseIds[0].Length);
        }
    }
}
