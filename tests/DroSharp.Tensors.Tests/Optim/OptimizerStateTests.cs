using DroSharp.Tensors.Optim;
using static DroSharp.Tensors.Tests.Optim.OptimTestUtil;

namespace DroSharp.Tensors.Tests.Optim;

public class OptimizerStateTests
{
    public static TheoryData<string> Optimizers => new() { "adamw", "adamw-decay", "adafactor", "adafactor-beta1" };

    private static Optimizer Create(string which, Tensor[] ps) => which switch
    {
        "adamw" => new AdamW(ps),
        "adamw-decay" => new AdamW(ps, weightDecay: 0.1, weightDecayFilter: WeightDecayFilter.HuggingFaceTrainer),
        "adafactor" => new Adafactor(ps),
        _ => new Adafactor(ps, beta1: 0.9, weightDecay: 0.05),
    };

    private static readonly double[] s_lrs = [0.0, 0.01, 0.02, 0.015, 0.03, 0.01, 0.02];

    // Gradients of step s: parameter 3 sits out step 0 (so it has no state until step 1),
    // parameter 1 sits out step 4 (after the resume point).
    private static void Gradients(Tensor[] ps, int step) =>
        SetGradients(ps, new Random(100 + step), step == 0 ? [3] : step == 4 ? [1] : []);

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void ExportImportAndContinueIsBitIdenticalToAnUninterruptedRun(string which)
    {
        const int resumeAt = 3;
        var straight = MixedParameters(31);
        using var optStraight = Create(which, straight);
        for (int s = 0; s < s_lrs.Length; s++)
        {
            Gradients(straight, s);
            optStraight.Step(s_lrs[s]);
        }

        var first = MixedParameters(31);
        OptimizerState saved;
        Tensor[] savedParams;
        using (var optFirst = Create(which, first))
        {
            for (int s = 0; s < resumeAt; s++)
            {
                Gradients(first, s);
                optFirst.Step(s_lrs[s]);
            }
            saved = DeepCopy(optFirst.ExportState());
            savedParams = CloneParameters(first);
            // The first optimiser keeps going: the copy must not be affected.
            Gradients(first, resumeAt);
            optFirst.Step(0.5);
        }

        using var optResumed = Create(which, savedParams);
        optResumed.ImportState(saved);
        Assert.Equal(resumeAt, optResumed.StepCount);
        for (int s = resumeAt; s < s_lrs.Length; s++)
        {
            Gradients(savedParams, s);
            optResumed.Step(s_lrs[s]);
        }

        for (int i = 0; i < straight.Length; i++) AssertBitwiseEqual(straight[i], savedParams[i], straight[i].Name!);
        var a = optStraight.ExportState();
        var b = optResumed.ExportState();
        Assert.Equal(a.Counters.OrderBy(kv => kv.Key), b.Counters.OrderBy(kv => kv.Key));
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        foreach (var (key, t) in a.Tensors) AssertBitwiseEqual(t, b.Tensors[key], key);
        DisposeAll(straight);
        DisposeAll(first);
        DisposeAll(savedParams);
        DisposeAll(saved.Tensors.Values);
    }

    [Fact]
    public void ExportNamesStateBySlotAndParameterAndOmitsParametersNeverUpdated()
    {
        var ps = MixedParameters(2);
        using var opt = new AdamW(ps);
        SetGradients(ps, new Random(3), 2);
        opt.Step(0.1);
        opt.Step(0.1);
        var state = opt.ExportState();
        Assert.Equal("adamw", state.Kind);
        Assert.Equal(2, state.Counters["step"]);
        Assert.Equal(2, state.Counters["step.stack.weight"]);
        Assert.False(state.Counters.ContainsKey("step.value_head.bias"));
        Assert.False(state.Tensors.ContainsKey("exp_avg.value_head.bias"));
        Assert.Equal(new Shape(2, 5, 9), state.Tensors["exp_avg_sq.stack.weight"].Shape);
        Assert.Equal(3 * 2, state.Tensors.Count);
        // Exported tensors are views: disposing them leaves the optimiser's buffers alone.
        foreach (var t in state.Tensors.Values) Assert.False(t.OwnsMemory);
        foreach (var t in state.Tensors.Values) t.Dispose();
        opt.Step(0.1);
        Assert.True(float.IsFinite(opt.ExportState().Tensors["exp_avg.scale"][0]));
        DisposeAll(ps);
    }

    [Fact]
    public void ImportRejectsMismatchedStateNamingTheKeyAndChangesNothing()
    {
        var ps = MixedParameters(4);
        using var opt = new AdamW(ps);
        SetGradients(ps, new Random(3));
        opt.Step(0.1);
        var good = DeepCopy(opt.ExportState());
        var before = DeepCopy(opt.ExportState());

        void Rejects(Action<OptimizerState> corrupt, string mention, Optimizer? target = null)
        {
            var bad = DeepCopy(good);
            corrupt(bad);
            var e = Assert.Throws<InvalidDataException>(() => (target ?? opt).ImportState(bad));
            Assert.Contains(mention, e.Message);
        }

        Rejects(s => s.Counters["step.decoder.missing"] = 1, "step.decoder.missing");
        Rejects(s => s.Tensors["exp_avg.nobody"] = Tensor.Zeros(3), "exp_avg.nobody");
        Rejects(s => s.Tensors["momentum.scale"] = Tensor.Zeros(1), "momentum.scale");
        Rejects(s => { s.Tensors["exp_avg_sq.stack.weight"] = Tensor.Zeros(2, 45); }, "exp_avg_sq.stack.weight");
        Rejects(s => s.Tensors.Remove("exp_avg.scale"), "exp_avg.scale");
        Rejects(s => s.Counters.Remove("step.scale"), "step.scale");
        Rejects(s => s.Counters.Remove("step"), "'step'");
        Rejects(s => s.Counters["step.scale"] = 0, "step.scale");
        var ps2 = CloneParameters(ps);
        using (var adafactor = new Adafactor(ps2)) Rejects(_ => { }, "adamw", adafactor);
        DisposeAll(ps2);

        var after = opt.ExportState();
        foreach (var (key, t) in before.Tensors) AssertBitwiseEqual(t, after.Tensors[key], key);
        Assert.Equal(before.Counters.OrderBy(kv => kv.Key), after.Counters.OrderBy(kv => kv.Key));
        DisposeAll(ps);
    }

    [Fact]
    public void ImportDropsStateOfParametersAbsentFromIt()
    {
        var ps = MixedParameters(4);
        using var opt = new AdamW(ps);
        var fresh = opt.ExportState();   // before any step: only the 'step' counter
        Assert.Single(fresh.Counters);
        SetGradients(ps, new Random(3));
        opt.Step(0.1);
        opt.ImportState(DeepCopy(fresh));
        Assert.Equal(0, opt.StepCount);
        Assert.Equal(0, opt.ParameterStepCount(0));
        Assert.Empty(opt.ExportState().Tensors);
        DisposeAll(ps);
    }

    [Fact]
    public void ZeroGradEitherDropsOrClearsGradients()
    {
        var ps = MixedParameters(4);
        using var opt = new AdamW(ps);
        SetGradients(ps, new Random(3));
        var kept = ps[0].Grad;
        opt.ZeroGrad(setToNone: false);
        Assert.Same(kept, ps[0].Grad);
        Assert.All(ps, p => Assert.All(p.Grad!.ToArray(), x => Assert.Equal(0f, x)));
        opt.ZeroGrad();
        Assert.All(ps, p => Assert.Null(p.Grad));
        // With no gradients a step changes nothing but the step count.
        var before = ps[0].Clone();
        opt.Step(0.1);
        AssertBitwiseEqual(before, ps[0], "w");
        Assert.Equal(1, opt.StepCount);
        Assert.Equal(0, opt.ParameterStepCount(0));
        before.Dispose();
        DisposeAll(ps);
    }

    [Fact]
    public void ConstructorRejectsParametersThatCannotBeKeyedOrUpdated()
    {
        var rng = new Random(1);
        var a = Parameter(rng, "a", new Shape(3));
        var sameName = Parameter(rng, "a", new Shape(3));
        var unnamed = Parameter(rng, "x", new Shape(3));
        unnamed.Name = null;
        var frozen = Parameter(rng, "frozen", new Shape(3));
        frozen.RequiresGrad = false;
        var view = a.Reshape(new Shape(1, 3));
        view.RequiresGrad = true;
        view.Name = "view";
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => new AdamW([a, sameName])).Message);
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => new AdamW([a, a])).Message);
        Assert.Contains("no name", Assert.Throws<ArgumentException>(() => new AdamW([unnamed])).Message);
        Assert.Contains("'frozen'", Assert.Throws<ArgumentException>(() => new Adafactor([frozen])).Message);
        Assert.Contains("'view'", Assert.Throws<ArgumentException>(() => new AdamW([view])).Message);
        Assert.Throws<ArgumentException>(() => new AdamW([]));

        using var opt = new AdamW([a]);
        a.Grad = Tensor.Zeros(4);
        Assert.Contains("'a'", Assert.Throws<InvalidOperationException>(() => opt.Step(0.1)).Message);
        DisposeAll([a, sameName, unnamed, frozen]);
    }
}
