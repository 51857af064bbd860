using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// <c>--value shared</c>: a value head on the policy's own backbone must receive dL/dV, and so must the
/// shared backbone. (The first implementation wrote dL/dV into an arena gradient that the next
/// backward cleared, so neither trained and the "one network" ablation measured an untrained value.)
/// </summary>
public sealed class SharedValueTests
{
    [Fact]
    public void ValueGradientReachesTheHeadAndTheSharedEncoderButNotTheDecoder()
    {
        using var fx = new TrainerFixture();
        using var policy = ModelFamilies.LoadPolicy(fx.Model);
        using var value = policy.Family.CreateValueModel(policy, ValueModelKind.SharedBackbone, new DeterministicRandom(1));
        using var batch = policy.CreateBatch([[5, 20, 21, 1], [9, 30, 1]], [[22, 1], [23, 24, 1]]);
        using var tape = new Tape();
        Tensor v;
        using (tape.Activate()) v = value.Forward(batch, policy.Forward(batch, withPromptFeatures: true));
        using var ones = Tensor.FromArray([1f, 1f], new Shape(2));
        tape.Backward([(v, ones)]);

        Assert.All(value.Parameters.All, p => Assert.True(p.Grad is not null && p.Grad.Span.ToArray().Any(g => g != 0), $"{p.Name} got no gradient"));
        double encoder = policy.Parameters.All.Where(p => p.Name!.StartsWith("encoder.", StringComparison.Ordinal)).Sum(p => Norm(p.Grad));
        double decoder = policy.Parameters.All.Where(p => p.Name!.StartsWith("decoder.", StringComparison.Ordinal)).Sum(p => Norm(p.Grad));
        Assert.True(encoder > 0, "the shared encoder got no value gradient");
        Assert.Equal(0, decoder);
    }

    [Fact]
    public void SharedValueFitsAPromptDependentReward()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var options = fx.Options(data, "run") with
        {
            Value = "shared", MaxSteps = 200, LearningRate = 1e-5, ValueLearningRate = 1e-2, LogEvery = 25, Tau = 1.0,
        };
        using (var trainer = new AlignmentTrainer(options, encoder: null, TextWriter.Null)) trainer.Train(resume: false, CancellationToken.None);

        var metrics = TrainerFixture.Metrics(new RunDirectory(options.Out));
        Assert.All(metrics, m => Assert.True(m["value/grad_norm"].GetDouble() > 0, "value/grad_norm must be positive"));
        Assert.True(metrics[^1]["loss"].GetDouble() < 0.5 * metrics[0]["loss"].GetDouble(),
            $"the DRO loss should fall as V learns E[r|x]: {metrics[0]["loss"]} → {metrics[^1]["loss"]}");

        // V of the final shared network on the two kinds of prompt: +1 and −1 are the targets (z-normalised: ±1).
        using var policy = ModelFamilies.LoadPolicy(Path.Combine(options.Out, "final"));
        using var value = policy.Family.CreateValueModel(policy, ValueModelKind.SharedBackbone, new DeterministicRandom(1));
        Models.Checkpoints.StateDictLoader.Load(Path.Combine(options.Out, "final", "value"), value.Parameters.All);
        using var batch = policy.CreateBatch([[5, 20, 21, 1], [9, 30, 31, 1]], [[22, 1], [22, 1]]);
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        var v = value.Forward(batch, policy.Forward(batch, withPromptFeatures: true));
        Assert.True(v[0] > 0.5 && v[1] < -0.5, $"V(kind A) = {v[0]}, V(kind B) = {v[1]}; expected near +1 and −1");
    }

    private static double Norm(Tensor? g) => g is null ? 0 : Math.Sqrt(g.Span.ToArray().Sum(x => (double)x * x));
}
