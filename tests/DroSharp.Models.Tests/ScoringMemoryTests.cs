using DroSharp.Models.Decoder;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests;

/// <summary>
/// A forward without a gradient (scoring, the reference, evaluation) frees each layer's intermediates as soon as the
/// layer is done: the same log-probs, bit for bit, as the recording forward of training, with a fraction of its
/// activation memory.
/// </summary>
public sealed class ScoringMemoryTests
{
    [Theory]
    [InlineData("llama-tiny")]
    [InlineData("gemma3-tiny")]
    [InlineData("t5-tiny")]
    public void ScoringHoldsOneLayerAtATimeAndGivesTheTrainingLogProbs(string preset)
    {
        var (family, config) = ModelFamilies.Preset(preset);
        using var model = family.CreatePolicy(config);
        model.InitializeWeights(new DeterministicRandom(3));
        var rng = new Random(11);
        int[][] prompts = [.. Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 20 + 7 * i).Select(_ => 5 + rng.Next(100)).ToArray())];
        int[][] completions = [.. Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 9 + 5 * i).Select(_ => 5 + rng.Next(100)).ToArray())];
        using var batch = model.CreateBatch(prompts, completions);

        float[] Run(bool recording, out long highWater)
        {
            using var tape = new Tape(recording);
            using (tape.Activate())
            {
                var lp = PolicyScoring.SequenceLogProbs(model.Forward(batch), batch, lengthNormalize: false);
                var values = new float[batch.Size];
                for (int i = 0; i < values.Length; i++) values[i] = lp[i];
                highWater = tape.Arena.HighWaterBytes;
                return values;
            }
        }

        var trained = Run(recording: true, out long recordingBytes);
        var scored = Run(recording: false, out long scoringBytes);
        Assert.Equal(trained, scored); // bit for bit
        Assert.True(scoringBytes * 2 < recordingBytes, $"{preset}: the scoring forward held {scoringBytes} bytes, the recording one {recordingBytes}");
    }
}
