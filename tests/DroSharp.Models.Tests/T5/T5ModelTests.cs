using DroSharp.Models;
using DroSharp.Models.T5;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.T5;

public class T5ModelTests
{
    [Fact]
    public void BatchShiftsResponsesRightAndMasksPadding()
    {
        using var b = Seq2SeqBatch.Create([[4, 5, 1], [6, 1]], [[7, 8, 9, 1], [3, 1]], padTokenId: 0, decoderStartTokenId: 0);
        Assert.Equal(new[] { 4, 5, 1, 6, 1, 0 }, b.PromptIds);
        Assert.Equal(new[] { 1f, 1, 1, 1, 1, 0 }, b.PromptMask.ToArray());
        Assert.Equal(new[] { 0, 7, 8, 9, 0, 3, 1, 0 }, b.DecoderInputIds);
        Assert.Equal(new[] { 7, 8, 9, 1, 3, 1, -1, -1 }, b.Targets);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PaddingDoesNotChangeSequenceLogProbs(bool v1)
    {
        using var model = new T5ForConditionalGeneration(T5GenerationTests.SmallConfig(v1));
        model.InitializeWeights(new DeterministicRandom(21));
        int[] p = [3, 4, 5, 1], r = [9, 10, 1];
        using var alone = Seq2SeqBatch.Create([p], [r], 0, 0);
        using var padded = Seq2SeqBatch.Create([p, [7, 7, 7, 7, 7, 7, 7, 1]], [r, [2, 2, 2, 2, 2, 1]], 0, 0);
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        float a = PolicyScoring.SequenceLogProbs(model.Forward(alone), alone, lengthNormalize: false)[0];
        float b = PolicyScoring.SequenceLogProbs(model.Forward(padded), padded, lengthNormalize: false)[0];
        Assert.True(Math.Abs(a - b) < 1e-4 * Math.Max(1, Math.Abs(a)), $"{a} vs {b}");
        Assert.True(a < 0);
    }

    [Fact]
    public void ParameterNamesAreHuggingFaces()
    {
        using var v11 = new T5ForConditionalGeneration(T5GenerationTests.SmallConfig(false));
        Assert.True(v11.Parameters.Contains("lm_head.weight"));
        Assert.True(v11.Parameters.Contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
        Assert.False(v11.Parameters.Contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
        Assert.True(v11.Parameters.Contains("decoder.block.1.layer.1.EncDecAttention.q.weight"));
        Assert.True(v11.Parameters.Contains("decoder.block.1.layer.2.DenseReluDense.wi_1.weight"));
        Assert.Equal(new Shape(20, 24), v11.Parameters["encoder.block.0.layer.0.SelfAttention.q.weight"].Shape); // inner = 4·5 ≠ d_model
        using var v1 = new T5ForConditionalGeneration(T5GenerationTests.SmallConfig(true));
        Assert.False(v1.Parameters.Contains("lm_head.weight"));
        Assert.True(v1.Parameters.Contains("decoder.block.2.layer.2.DenseReluDense.wi.weight"));
    }

    [Fact]
    public void SaveAndLoadRoundTripsBitExactly()
    {
        using var model = new T5ForConditionalGeneration(T5GenerationTests.SmallConfig(true));
        model.InitializeWeights(new DeterministicRandom(8));
        using (var temp = new TempDirectory("drosharp-t5-"))
        {
            string dir = temp.File("t5");
            T5ModelFiles.SavePolicy(model, dir);
            using var back = T5ModelFiles.LoadPolicy(dir);
            foreach (var p in model.Parameters.All) Assert.Equal(p.ToArray(), back.Parameters[p.Name!].ToArray());
            using var value = T5ValueModel.FromPolicy(model, new DeterministicRandom(2));
            T5ModelFiles.SaveValue(value, Path.Combine(dir, "value"));
            using var vBack = T5ModelFiles.LoadValue(Path.Combine(dir, "value"));
            Assert.Equal(value.HeadWeight.ToArray(), vBack.HeadWeight.ToArray());
            Assert.Equal(model.Shared.ToArray(), vBack.Shared.ToArray());
        }
    }
}
