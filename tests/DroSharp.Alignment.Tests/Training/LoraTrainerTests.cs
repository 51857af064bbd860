using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Lora;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// The trainer with <c>--lora</c>: one frozen base shared by the policy, the reference and the value
/// network; checkpoints of adapters and heads only; bit-identical resume; gradient checkpointing that
/// changes nothing but memory.
/// </summary>
public sealed class LoraTrainerTests
{
    private static TrainingOptions Lora(TrainerFixture fx, string data, string run, string algo = "dro-v") =>
        fx.Options(data, run, algo) with { Lora = 4, LoraDropout = 0.1, MaxSteps = 6, SaveEvery = 3, SaveTotalLimit = 0 };

    private static string Labelled(TrainerFixture fx) => fx.WriteJsonl("labels.jsonl", Enumerable.Range(0, 32).Select(i =>
        (object)new { prompt_ids = new[] { 5 + i % 4, 20 + i % 7 }, completion_ids = new[] { 30 + i % 5, 31, fx.Tokens.EosId }, label = i % 3 != 0 }));

    [Theory]
    [InlineData("qwen3-tiny")]
    [InlineData("t5-tiny")]
    public void OneFrozenBaseServesPolicyReferenceAndValueAndOnlyAdaptersAreSaved(string preset)
    {
        using var fx = new TrainerFixture(preset);
        var o = Lora(fx, fx.PromptDependentRewards(), "run");
        using var trainer = new AlignmentTrainer(o, encoder: null, TextWriter.Null);
        trainer.Train(resume: false, CancellationToken.None);

        var (policy, value, reference, lora) = trainer.Models;
        Assert.NotNull(lora);
        var p = Assert.IsType<LoraPolicyModel>(policy);
        var v = Assert.IsType<LoraValueModel>(value);
        var r = Assert.IsType<LoraPolicyModel>(reference);
        Assert.Same(p.Base, r.Base);
        Assert.Null(r.AdapterName);
        Assert.All(p.Base.Parameters.All, t => Assert.False(t.RequiresGrad || t.Grad is not null, $"{t.Name} of the base trains"));
        var baseTensors = new HashSet<Tensor>(p.Base.Parameters.All, ReferenceEqualityComparer.Instance);
        Assert.DoesNotContain(p.Parameters.All, baseTensors.Contains);
        Assert.DoesNotContain(v.Parameters.All, baseTensors.Contains);
        Assert.All(v.Adapters, a => Assert.Contains(a.Module, p.Base.Parameters.Linears)); // the value adapts the policy's own modules

        // Checkpoints and final/ hold adapters (and the value head) only.
        var run = new RunDirectory(o.Out);
        var (_, cp) = run.Checkpoints()[^1];
        foreach (var (dir, set) in new[] { (Path.Combine(cp, "policy"), p.Parameters), (Path.Combine(cp, "value"), v.Parameters), (run.FinalDirectory, p.Parameters) })
        {
            Assert.True(PeftAdapterFiles.IsAdapterDirectory(dir), dir);
            Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
            using var reader = SafetensorsReader.Open(Path.Combine(dir, PeftAdapterFiles.WeightsFileName));
            Assert.Equal(set.All.Select(t => PeftAdapterFiles.SavedKey(t.Name!)).Order(StringComparer.Ordinal), reader.TensorNames.Order(StringComparer.Ordinal));
        }
        using (var opt = SafetensorsReader.Open(Path.Combine(cp, "optimizer.policy.safetensors")))
            Assert.All(opt.TensorNames, n => Assert.Contains(".lora_", n));
        Assert.Equal(Path.GetFullPath(fx.Model), PeftAdapterConfig.Load(run.FinalDirectory).BaseModelNameOrPath);

        // The reference log-probs are the base's own, as if the base had been loaded alone.
        using var cache = SafetensorsReader.Open(run.ReferenceCacheFile);
        using var cached = cache.ReadTensor("train");
        using var alone = ModelFamilies.LoadPolicy(fx.Model);
        var rows = File.ReadLines(o.Data).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var lp = alone.ScoreSequences(rows.Select(e => e.GetProperty("prompt_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList(),
                                      rows.Select(e => e.GetProperty("completion_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList(), 8);
        int known = 0;
        for (int i = 0; i < lp.Length; i++)
            if (float.IsFinite(cached[i])) { Assert.Equal((float)lp[i], cached[i]); known++; }
        Assert.True(known >= 8);
    }

    /// <summary>An interrupted and resumed LoRA run (dropout on) ends with the same adapter bytes and metrics.</summary>
    [Theory]
    [InlineData("qwen3-tiny", "bf16", true, "dro-v")]
    [InlineData("t5-tiny", "f32", false, "dro-v")]
    [InlineData("qwen3-tiny", "f32", false, "kto")]
    public void InterruptedAndResumedLoraRunIsBitIdentical(string preset, string dtype, bool checkpointing, string algo)
    {
        using var fx = new TrainerFixture(preset);
        string data = algo == "kto" ? Labelled(fx) : fx.PromptDependentRewards();
        TrainingOptions Options(string run) => Lora(fx, data, run, algo) with
        {
            BaseDtype = dtype, GradientCheckpointing = checkpointing, MaxSteps = 8, GradientAccumulation = 2, BatchSize = 4,
            SaveEvery = 0, EvalFraction = 0.25, EvalEvery = 4, LogEvery = 2,
        };
        using (var t = new AlignmentTrainer(Options(fx.Path_("a")), encoder: null, TextWriter.Null)) t.Train(resume: false, CancellationToken.None);
        using (var cts = new CancellationTokenSource())
        using (var t = new AlignmentTrainer(Options(fx.Path_("b")), encoder: null, TextWriter.Null))
        {
            t.StepCompleted += s => { if (s == 5) cts.Cancel(); };
            Assert.True(t.Train(resume: false, cts.Token).Interrupted);
        }
        using (var t = new AlignmentTrainer(Options(fx.Path_("b")), encoder: null, TextWriter.Null)) t.Train(resume: true, CancellationToken.None);
        foreach (var file in new[] { PeftAdapterFiles.WeightsFileName, Path.Combine("value", PeftAdapterFiles.WeightsFileName) })
        {
            string a = Path.Combine(fx.Path_("a"), "final", file), b = Path.Combine(fx.Path_("b"), "final", file);
            Assert.Equal(File.Exists(a), File.Exists(b));
            if (File.Exists(a)) Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)), $"{file} differs after resume");
        }
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(Path.Combine(fx.Path_("a"), "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(fx.Path_("b"), "metrics.jsonl")).Select(Strip));
    }

    /// <summary>
    /// --gradient-checkpointing changes memory only: the trained weights are bit-identical, the model's FLOPs are the
    /// same, and the forward it runs again is reported beside them (at most the whole forward: a third of a fully trained
    /// step's count, half of one on a frozen base).
    /// </summary>
    [Theory]
    [InlineData("qwen3-tiny", 0)]
    [InlineData("t5-tiny", 0)]
    [InlineData("qwen3-tiny", 4)]
    public void GradientCheckpointingTrainsBitIdentically(string preset, int lora)
    {
        using var fx = new TrainerFixture(preset);
        string data = fx.PromptDependentRewards();
        TrainingOptions Options(string run, bool gc) => fx.Options(data, run) with { Lora = lora, MaxSteps = 4, GradientCheckpointing = gc };
        var flops = new Dictionary<string, (double Model, double Recomputed)>();
        foreach (var (run, gc) in new[] { ("plain", false), ("ckpt", true) })
            using (var t = new AlignmentTrainer(Options(run, gc), encoder: null, TextWriter.Null))
            {
                t.Train(resume: false, CancellationToken.None);
                flops[run] = (t.LastStepMatmulFlops, t.LastStepRecomputedFlops);
            }
        Assert.Equal(flops["plain"].Model, flops["ckpt"].Model);
        Assert.Equal(0, flops["plain"].Recomputed);
        Assert.InRange(flops["ckpt"].Recomputed, 0.05 * flops["ckpt"].Model, flops["ckpt"].Model / (lora > 0 ? 2 : 3));
        string weights = lora > 0 ? PeftAdapterFiles.WeightsFileName : CheckpointDirectory.SingleFileName;
        foreach (var file in new[] { weights, Path.Combine("value", weights) })
            Assert.True(File.ReadAllBytes(Path.Combine(fx.Path_("plain"), "final", file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(fx.Path_("ckpt"), "final", file))), file);
    }

    [Theory]
    [InlineData("single")]
    [InlineData("shared")]
    public void OtherValueKindsWorkOnTheAdaptedPolicy(string valueKind)
    {
        using var fx = new TrainerFixture("qwen3-tiny");
        var o = Lora(fx, fx.PromptDependentRewards(), "run") with { Value = valueKind, MaxSteps = 3 };
        using var t = new AlignmentTrainer(o, encoder: null, TextWriter.Null);
        var r = t.Train(resume: false, CancellationToken.None);
        Assert.True(double.IsFinite(r.LastMetrics["loss"]));
        Assert.IsNotType<LoraValueModel>(t.Models.Value);
        Assert.True(File.Exists(Path.Combine(o.Out, "final", "value", CheckpointDirectory.SingleFileName)));
    }

    [Fact]
    public void LoraOptionsAreValidated()
    {
        using var fx = new TrainerFixture("qwen3-tiny");
        string data = fx.PromptDependentRewards();
        void Refused(TrainingOptions o, string needle)
        {
            var e = Assert.Throws<TrainingException>(() => { using var t = new AlignmentTrainer(o, encoder: null, TextWriter.Null); t.Train(false, CancellationToken.None); });
            Assert.Contains(needle, e.Message);
        }
        var o = fx.Options(data, "run");
        Refused(o with { BaseDtype = "bf16" }, "--lora");
        Refused(o with { LoraAlpha = 8 }, "--lora");
        Refused(o with { Lora = 4, BaseDtype = "fp8" }, "--base-dtype");
        Refused(o with { Lora = -1 }, "--lora");
        Refused(o with { Lora = 4, LoraDropout = 1 }, "--lora-dropout");
        Refused(o with { Lora = 4, Ref = fx.Path_("other") }, "--ref");
        Refused(o with { Lora = 4, LoraTargets = "qkv_projection" }, "--lora-targets");
        Refused(o with { Lora = 4, LoraTargets = "all-linear,q_proj" }, "all-linear");

        // An adapter directory is not a model to train from.
        var trained = Lora(fx, data, "first") with { MaxSteps = 1 };
        using (var t = new AlignmentTrainer(trained, encoder: null, TextWriter.Null)) t.Train(false, CancellationToken.None);
        Refused(o with { Model = Path.Combine(trained.Out, "final"), Out = fx.Path_("second") }, "adapter");
    }
}
