using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Optim;
using DroSharp.Text;
using DroSharp.Text.Training;

namespace DroSharp.Reliability.Tests;

/// <summary>
/// Properties checked on random inputs with CsCheck (it shrinks a failing input to a small one and prints its seed):
/// byte-level BPE decode∘encode is NFC (the identity on NFC text), safetensors write∘read keeps every value (and is idempotent for the
/// rounding dtypes), JSONL and CSV feedback rows read back as written, a checkpoint saved and loaded restores every
/// weight and optimiser moment bit for bit. (Jinja rendering is checked against Jinja2 itself on 5,445 templates in
/// tests/DroSharp.Text.Tests, Jinja2ReferenceTests.)
/// </summary>
public sealed class PropertyTests
{
    /// <summary>Unicode text as people write it: mostly ASCII and Latin, some of every plane, never a lone surrogate.</summary>
    private static readonly Gen<string> Text = Gen.Frequency(
            (6, Gen.Char["abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;:!?'\"-_()[]{}<>/\\\t\n"].Select(c => c.ToString())),
            (2, Gen.Int[0xA0, 0x24F].Select(char.ConvertFromUtf32)),
            (1, Gen.Int[0, 0x10FFFF].Where(cp => cp is < 0xD800 or > 0xDFFF).Select(char.ConvertFromUtf32)))
        .Array[0, 40].Select(parts => string.Concat(parts));

    private static readonly Lazy<Tokenizer> Bpe = new(() => TokenizerTrainer.TrainByteLevelBpe(
        Enumerable.Range(0, 200).Select(i => $"the colour of thing {i} is {(i % 3 == 0 ? "red" : "blue")}, naïve café {i * 7}"), vocabSize: 400, minFrequency: 2));

    /// <summary>The trained byte-level BPE normalises to NFC and is lossless after that: decode(encode(s)) = NFC(s).</summary>
    [Fact]
    public void ByteLevelBpeDecodeOfEncodeIsTheNfcText()
    {
        var tok = Bpe.Value;
        Text.Sample(s =>
        {
            var ids = tok.EncodeIds(s, addSpecialTokens: false);
            Assert.Equal(DroSharp.Text.Normalizers.UnicodeNormalization.Normalize(s, NormalizationForm.FormC), tok.Decode(ids, skipSpecialTokens: false));
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void ATokenizerWrittenAndReadBackEncodesAlike()
    {
        var tok = Bpe.Value;
        var again = Tokenizer.FromJson(tok.ToJson());
        Text.Sample(s => Assert.Equal(tok.EncodeIds(s), again.EncodeIds(s)), iter: 500, threads: 1);
    }

    private static readonly Gen<float> Floats = Gen.Frequency(
        (8, Gen.Float[-1e4f, 1e4f]),
        (1, Gen.Float), // any bit pattern: NaNs, infinities, subnormals
        (1, Gen.Int[0, 5].Select(i => new[] { 0f, -0f, float.Epsilon, float.MaxValue, float.MinValue, 1e-40f }[i])));

    private static readonly Gen<(int[] Shape, float[] Values)> Tensors =
        Gen.Int[0, 5].Array[0, 4].SelectMany(shape => Floats.Array[shape.Aggregate(1, (a, b) => a * b)].Select(v => (shape, v)));

    [Fact]
    public void SafetensorsWriteThenReadKeepsEveryValue()
    {
        using var scratch = new TempDirectory("drosharp-props-");
        string dir = scratch.Path;
        var dtypes = Gen.Int[0, 2].Select(i => new[] { SafetensorsDtype.F32, SafetensorsDtype.BF16, SafetensorsDtype.F16 }[i]);
        Gen.Select(Tensors.Array[1, 4], dtypes, Gen.String.Array[0, 3]).Sample((tensors, dtype, metadata) =>
        {
            string path = Path.Combine(dir, "t.safetensors"), again = Path.Combine(dir, "t2.safetensors");
            var written = tensors.Select((t, i) => Tensor.FromArray(t.Values, Shape.FromSpan(t.Shape))).ToList();
            try
            {
                var w = new SafetensorsWriter();
                for (int i = 0; i < written.Count; i++) w.Add($"layer.{i}.weight", written[i], dtype);
                for (int i = 0; i < metadata.Length; i++) w.AddMetadata($"key{i}", metadata[i]);
                w.AddInt64("ids", [.. tensors.Select(t => (long)t.Values.Length)], tensors.Length);
                w.Write(path);
                using var r = SafetensorsReader.Open(path);
                for (int i = 0; i < metadata.Length; i++) Assert.Equal(metadata[i], r.Metadata![$"key{i}"]);
                Assert.Equal(tensors.Select(t => (long)t.Values.Length), r.ReadInt64("ids"));
                var w2 = new SafetensorsWriter();
                var read = new List<Tensor>();
                for (int i = 0; i < written.Count; i++)
                {
                    var t = r.ReadTensor($"layer.{i}.weight");
                    read.Add(t);
                    Assert.Equal(tensors[i].Shape, Enumerable.Range(0, t.Shape.Rank).Select(k => t.Shape[k]));
                    if (dtype == SafetensorsDtype.F32) Assert.Equal(Bits(tensors[i].Values), Bits(t.ToArray())); // F32 is exact
                    w2.Add($"layer.{i}.weight", t, dtype);
                }
                // BF16 and F16 round once: writing what was read back changes nothing.
                w2.Write(again);
                using var r2 = SafetensorsReader.Open(again);
                for (int i = 0; i < read.Count; i++)
                {
                    using var t2 = r2.ReadTensor($"layer.{i}.weight");
                    Assert.Equal(Bits(read[i].ToArray()), Bits(t2.ToArray()));
                }
                foreach (var t in read) t.Dispose();
            }
            finally
            {
                foreach (var t in written) t.Dispose();
            }
        }, iter: 300, threads: 1);
    }

    private static int[] Bits(float[] values) => values.Select(v => float.IsNaN(v) ? int.MinValue : BitConverter.SingleToInt32Bits(v)).ToArray();

    private static readonly Gen<(string Prompt, string Completion, bool Label, double Reward)> Rows = Gen.Select(
        Text.Where(s => s.Trim().Length > 0), Text.Where(s => s.Trim().Length > 0), Gen.Bool,
        Gen.Frequency((4, Gen.Double[-1e6, 1e6]), (1, Gen.Double.Where(double.IsFinite))));

    [Fact]
    public void JsonlRowsReadBackAsWritten()
    {
        Gen.Select(Rows.Array[1, 12], Gen.Bool).Sample((rows, scored) =>
        {
            var sb = new StringBuilder();
            foreach (var r in rows)
                sb.Append(scored ? JsonSerializer.Serialize(new { prompt = r.Prompt, completion = r.Completion, reward = r.Reward })
                                 : JsonSerializer.Serialize(new { prompt = r.Prompt, completion = r.Completion, label = r.Label })).Append('\n');
            var data = FeedbackFileReader.Parse(Encoding.UTF8.GetBytes(sb.ToString()), "rows.jsonl");
            Assert.Equal(rows.Length, data.Examples.Count);
            for (int i = 0; i < rows.Length; i++)
            {
                var x = data.Examples[i];
                Assert.Equal(rows[i].Prompt, x.Prompt.Text);
                Assert.Equal(rows[i].Completion, x.Completion.Text);
                if (scored) Assert.Equal(rows[i].Reward, x.Reward);
                else Assert.Equal(rows[i].Label, x.Label);
                Assert.Equal(i + 1, x.Line);
            }
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void CsvRowsReadBackAsWritten()
    {
        static string Quote(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";
        // CSV text without carriage returns (a bare CR inside a quoted field is read as part of a line break).
        Rows.Where(r => !r.Prompt.Contains('\r') && !r.Completion.Contains('\r')).Array[1, 12].Sample(rows =>
        {
            var sb = new StringBuilder("prompt,completion,reward\n");
            foreach (var r in rows) sb.Append(Quote(r.Prompt)).Append(',').Append(Quote(r.Completion)).Append(',').Append(r.Reward.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            var data = FeedbackFileReader.Parse(Encoding.UTF8.GetBytes(sb.ToString()), "rows.csv");
            Assert.Equal(rows.Length, data.Examples.Count);
            for (int i = 0; i < rows.Length; i++)
            {
                Assert.Equal(rows[i].Prompt, data.Examples[i].Prompt.Text);
                Assert.Equal(rows[i].Completion, data.Examples[i].Completion.Text);
                Assert.Equal(rows[i].Reward, data.Examples[i].Reward);
            }
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void ACheckpointSavedAndLoadedRestoresEveryWeightAndMoment()
    {
        using var scratch = new TempDirectory("drosharp-props-");
        string dir = scratch.Path;
        var (family, config) = ModelFamilies.Preset("t5-tiny");
        Gen.Select(Gen.ULong, Gen.Int[0, 3], Gen.Bool).Sample((seed, steps, adafactor) =>
        {
            using var policy = family.CreatePolicy(config);
            policy.InitializeWeights(new DeterministicRandom(seed));
            using var value = family.CreateValueModel(policy, ValueModelKind.OwnBackbone, new DeterministicRandom(seed + 1));
            using Optimizer po = adafactor ? new Adafactor(policy.Parameters.Trainable) : new AdamW(policy.Parameters.Trainable, weightDecay: 0.01);
            using Optimizer vo = new AdamW(value.Parameters.Trainable);
            var rng = new DeterministicRandom(seed + 2);
            for (int s = 0; s < steps; s++)
            {
                foreach (var p in policy.Parameters.Trainable.Concat(value.Parameters.Trainable))
                {
                    var g = p.EnsureGrad();
                    for (int i = 0; i < g.Length; i++) g[i] = (float)(rng.NextDouble() - 0.5);
                }
                po.Step(1e-3);
                vo.Step(1e-3);
            }
            var sampler = new EpochSampler(10, 3, seed).GetState();
            var window = new TrainingCheckpoint.LogWindow(new SortedDictionary<string, double[]> { ["loss"] = [0.5, 1.5] }, 2.0, 2, 40);
            string cp = Path.Combine(dir, "step-" + steps);
            TrainingCheckpoint.Save(cp, new TrainingCheckpoint.TrainerState(steps, sampler, 123, 4.5, window), policy, value, po, vo);

            using var policy2 = family.CreatePolicy(config);
            using var value2 = family.CreateValueModel(policy2, ValueModelKind.OwnBackbone, new DeterministicRandom(seed + 99));
            using Optimizer po2 = adafactor ? new Adafactor(policy2.Parameters.Trainable) : new AdamW(policy2.Parameters.Trainable, weightDecay: 0.01);
            using Optimizer vo2 = new AdamW(value2.Parameters.Trainable);
            var state = TrainingCheckpoint.Load(cp, policy2.Parameters, value2.Parameters, po2, vo2);
            Assert.Equal(steps, state.Step);
            Assert.Equal(sampler.ToJson(), state.Sampler.ToJson());
            Assert.Equal(window.Metrics["loss"], state.Window.Metrics["loss"]);
            foreach (var (a, b) in policy.Parameters.All.Zip(policy2.Parameters.All).Concat(value.Parameters.All.Zip(value2.Parameters.All)))
                Assert.Equal(Bits(a.ToArray()), Bits(b.ToArray()));
            foreach (var (x, y) in new[] { (po, po2), (vo, vo2) })
            {
                var (ex, ey) = (x.ExportState(), y.ExportState());
                Assert.Equal(ex.Counters.OrderBy(kv => kv.Key), ey.Counters.OrderBy(kv => kv.Key));
                Assert.Equal(ex.Tensors.Keys.Order(), ey.Tensors.Keys.Order());
                foreach (var k in ex.Tensors.Keys) Assert.Equal(Bits(ex.Tensors[k].ToArray()), Bits(ey.Tensors[k].ToArray()));
            }
            Directory.Delete(cp, recursive: true);
        }, iter: 12, threads: 1);
    }
}
