using System.Text.Json;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// Theorem 1 with a real decoder-only policy: a one-context bandit whose four actions are the whole
/// vocabulary of a tiny Llama (one-token completions after BOS). Whatever the behaviour policy μ
/// (here a log with skewed action frequencies), DRO-V's optimum is π* = π_ref·e^{(r − V*)/τ} with
/// V* = τ·log E_ref[e^{r/τ}]; the trainer, its value network and AdamW must get there.
/// </summary>
public sealed class DecoderBanditTests
{
    private static readonly double[] Rewards = [1.0, -0.5, 2.0, 0.3];
    private static readonly int[] Frequencies = [10, 20, 30, 40]; // μ ∝ 1:2:3:4, the paper fixture's behaviour

    [Fact]
    public void DroVConvergesToTheKlRegularisedOptimum()
    {
        using (var temp = new TempDirectory("drosharp-bandit-"))
        {
            string root = temp.Path;
            string model = Path.Combine(root, "model");
            var (family, config) = ModelFamilies.Preset("llama-tiny", vocabSize: 4);
            using (var p = family.CreatePolicy(config))
            {
                p.InitializeWeights(new DeterministicRandom(11));
                p.Save(model);
            }
            string data = Path.Combine(root, "log.jsonl");
            File.WriteAllLines(data, Enumerable.Range(0, 4).SelectMany(a => Enumerable.Repeat(
                JsonSerializer.Serialize(new { prompt_ids = new[] { 1 }, completion_ids = new[] { a }, reward = Rewards[a] }), Frequencies[a])));

            double tau = 1.0;
            double[] reference = ActionProbabilities(model);
            double vStar = tau * Math.Log(Enumerable.Range(0, 4).Sum(a => reference[a] * Math.Exp(Rewards[a] / tau)));
            double[] piStar = Enumerable.Range(0, 4).Select(a => reference[a] * Math.Exp((Rewards[a] - vStar) / tau)).ToArray();

            var options = new TrainingOptions
            {
                Algo = "dro-v", Model = model, Data = data, Out = Path.Combine(root, "run"), Tau = tau, NormalizeRewards = false,
                BatchSize = 100, MaxSteps = 400, LearningRate = 3e-3, ValueLearningRate = 1e-2, WarmupSteps = 0, Schedule = "constant",
                MaxGradNorm = 0, SaveEvery = 0, LogEvery = 100, Seed = 3,
            };
            using (var t = new AlignmentTrainer(options, encoder: null, TextWriter.Null)) t.Train(resume: false, CancellationToken.None);

            double[] pi = ActionProbabilities(Path.Combine(options.Out, "final"));
            double worst = Enumerable.Range(0, 4).Max(a => Math.Abs(pi[a] - piStar[a]));
            Assert.True(worst < 0.01, $"π = [{string.Join(", ", pi.Select(x => x.ToString("F4")))}], π* = [{string.Join(", ", piStar.Select(x => x.ToString("F4")))}]");
            // μ was far from π*: the fixed point is not the behaviour policy.
            Assert.True(Enumerable.Range(0, 4).Max(a => Math.Abs(Frequencies[a] / 100.0 - piStar[a])) > 0.1);

            using var policy = ModelFamilies.LoadPolicy(Path.Combine(options.Out, "final"));
            using var value = policy.Family.CreateValueModel(policy, ValueModelKind.OwnBackbone, new DeterministicRandom(0));
            StateDictLoader.Load(Path.Combine(options.Out, "final", "value"), value.Parameters.All);
            using var tape = new Tape(recording: false);
            using var _ = tape.Activate();
            using var batch = policy.CreateBatch([[1]], [[0]]);
            double v = value.Forward(batch, policy.Forward(batch))[0];
            Assert.True(Math.Abs(v - vStar) < 0.02, $"V = {v:F4}, V* = {vStar:F4}");
        }
    }

    private static double[] ActionProbabilities(string modelDir)
    {
        using var m = ModelFamilies.LoadPolicy(modelDir);
        var lp = m.ScoreSequences([[1], [1], [1], [1]], [[0], [1], [2], [3]], 4);
        return lp.Select(Math.Exp).ToArray();
    }
}
