using System.Runtime.CompilerServices;
using System.Text.Json;
using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class RopeTests
{
    /// <summary>y = x·cos + rotate_half(x)·sin on the first R dims of each head, in double, from the table's floats.</summary>
    private static double[] Reference(Tensor x, RopeTable table, int[] positions, int heads, int headDim)
    {
        int r = table.RotaryDim, h = r / 2, width = heads * headDim;
        var y = new double[x.Length];
        for (int row = 0; row < positions.Length; row++)
            for (int hd = 0; hd < heads; hd++)
            {
                int o = row * width + hd * headDim;
                for (int j = 0; j < headDim; j++)
                {
                    if (j >= r) { y[o + j] = x[o + j]; continue; }
                    int i = j % h;
                    double c = table.Cos[positions[row] * h + i], s = table.Sin[positions[row] * h + i];
                    double rotated = j < h ? -x[o + j + h] : x[o + j - h]; // rotate_half(x) = [−x2, x1]
                    y[o + j] = x[o + j] * c + rotated * s;
                }
            }
        return y;
    }

    private static RopeTable Table(int rotaryDim, int maxPositions, float scaling = 1f) =>
        new(RopeFrequencies.Compute("default", 10000, rotaryDim, 1.0, 4096, null, null, maxPositions).InverseFrequencies, scaling, maxPositions);

    public static readonly TheoryData<int, int, int, int> Shapes = new()
    {
        // rows, heads, headDim, rotaryDim
        { 1, 1, 2, 2 },
        { 5, 3, 10, 6 },      // partial rotary, half = 3
        { 7, 2, 40, 40 },     // half = 20: a vector of 16 and a tail
        { 9, 3, 64, 48 },     // Phi-4-mini's 0.75
        { 33, 2, 128, 128 },
        { 300, 5, 96, 96 },   // enough rows for the worker pool
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesReferenceAtEveryLevel(int rows, int heads, int headDim, int rotaryDim)
    {
        var rng = new Random(rows + headDim);
        using var table = Table(rotaryDim, 1000, 1.25f);
        using var x = TestUtil.Random(rng, new Shape(rows, heads * headDim), 3f);
        var positions = Enumerable.Range(0, rows).Select(_ => rng.Next(1000)).ToArray();
        var expected = Reference(x, table, positions, heads, headDim);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.Rope(x, table, positions, heads, headDim);
            Numerics.AssertClose(expected, y.Span, relative: 1e-6, absolute: 1e-6, what: $"rope {level}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardMatchesFiniteDifferencesAtEveryLevel(int rows, int heads, int headDim, int rotaryDim)
    {
        var rng = new Random(rows * 3 + headDim);
        using var table = Table(rotaryDim, 64);
        using var x = TestUtil.Random(rng, new Shape(rows, heads * headDim));
        var positions = Enumerable.Range(0, rows).Select(_ => rng.Next(64)).ToArray();
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(new Random(1), () => Ops.Rope(x, table, positions, heads, headDim), [x], h: 1e-2f, relTol: 1e-2, absTol: 1e-3);
        }
    }

    [Fact]
    public void RopePreservesNormsAndPositionZeroIsIdentity()
    {
        using var table = Table(16, 50);
        var rng = new Random(3);
        using var x = TestUtil.Random(rng, new Shape(2, 3, 16));
        int[] positions = [0, 0, 0, 7, 19, 49];
        using var y = Ops.Rope(x, table, positions, 1, 16);
        for (int i = 0; i < 16 * 3; i++) Assert.Equal(x[i], y[i]);
        for (int r = 3; r < 6; r++)
        {
            double nx = 0, ny = 0;
            for (int j = 0; j < 16; j++) { nx += x[r * 16 + j] * x[r * 16 + j]; ny += y[r * 16 + j] * y[r * 16 + j]; }
            Assert.Equal(nx, ny, 5);
        }
    }

    [Fact]
    public void BadPositionsAndShapesAreClearErrors()
    {
        using var table = Table(8, 10);
        using var x = Tensor.Zeros(2, 16);
        Assert.Contains("position 10", Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Rope(x, table, [1, 10], 2, 8)).Message);
        Assert.Throws<ArgumentException>(() => Ops.Rope(x, table, [1], 2, 8));
        Assert.Throws<ArgumentException>(() => Ops.Rope(x, table, [1, 2], 4, 8));
        using var wide = Table(12, 10);
        Assert.Throws<ArgumentException>(() => Ops.Rope(x, wide, [1, 2], 2, 8));
    }

    // ---- Hugging Face transformers 4.55.0's own numbers (Fixtures/rope-cases.json, see Fixtures/README.md) ----

    public sealed record OracleCase(string Name, int SequenceLength, string RopeType, double RopeTheta, int HeadDim, double PartialRotaryFactor,
        int MaxPositionEmbeddings, int? ConfigOriginalMaxPositionEmbeddings, RopeScalingParameters Scaling,
        float[] InverseFrequencies, double AttentionScaling, int[] Positions, float[][] Cos, float[][] Sin)
    {
        public override string ToString() => $"{Name} L={SequenceLength}";
    }

    private static string FixturePath([CallerFilePath] string source = "")
    {
        string near = Path.Combine(Path.GetDirectoryName(source)!, "..", "Fixtures", "rope-cases.json");
        return File.Exists(near) ? near : Path.Combine(AppContext.BaseDirectory, "Fixtures", "rope-cases.json");
    }

    private static readonly Lazy<OracleCase[]> s_cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath()));
        Assert.Equal("4.55.0", doc.RootElement.GetProperty("transformers").GetString());
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c =>
        {
            var rs = c.GetProperty("rope_scaling");
            double? D(string key) => rs.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            double[]? List(string key) => rs.TryGetProperty(key, out var v) ? v.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null;
            var scaling = new RopeScalingParameters
            {
                Factor = D("factor"),
                OriginalMaxPositionEmbeddings = rs.TryGetProperty("original_max_position_embeddings", out var o) ? o.GetInt32() : null,
                AttentionFactor = D("attention_factor"),
                BetaFast = D("beta_fast"),
                BetaSlow = D("beta_slow"),
                Mscale = D("mscale"),
                MscaleAllDim = D("mscale_all_dim"),
                Truncate = rs.TryGetProperty("truncate", out var t) ? t.GetBoolean() : null,
                LowFreqFactor = D("low_freq_factor"),
                HighFreqFactor = D("high_freq_factor"),
                ShortFactor = List("short_factor"),
                LongFactor = List("long_factor"),
            };
            float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var orig = c.GetProperty("config_original_max_position_embeddings");
            return new OracleCase(c.GetProperty("name").GetString()!, c.GetProperty("sequence_length").GetInt32(), c.GetProperty("rope_type").GetString()!,
                c.GetProperty("rope_theta").GetDouble(), c.GetProperty("head_dim").GetInt32(), c.GetProperty("partial_rotary_factor").GetDouble(),
                c.GetProperty("max_position_embeddings").GetInt32(), orig.ValueKind == JsonValueKind.Number ? orig.GetInt32() : null, scaling,
                Floats(c.GetProperty("inv_freq")), c.GetProperty("attention_scaling").GetDouble(),
                c.GetProperty("positions").EnumerateArray().Select(p => p.GetInt32()).ToArray(),
                c.GetProperty("cos").EnumerateArray().Select(Floats).ToArray(), c.GetProperty("sin").EnumerateArray().Select(Floats).ToArray());
        }).ToArray();
    });

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < s_cases.Value.Length; i++) data.Add(i);
        return data;
    }

    [Fact]
    public void FixtureCoversEveryRopeType()
    {
        var types = s_cases.Value.Select(c => c.RopeType).ToHashSet();
        Assert.Equal(new HashSet<string> { "default", "linear", "dynamic", "llama3", "yarn", "longrope" }, types);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void FrequenciesMatchTransformers(int index)
    {
        var c = s_cases.Value[index];
        var f = RopeFrequencies.Compute(c.RopeType, c.RopeTheta, c.HeadDim, c.PartialRotaryFactor, c.MaxPositionEmbeddings, c.Scaling,
            c.ConfigOriginalMaxPositionEmbeddings, c.SequenceLength);
        Assert.Equal(c.InverseFrequencies.Length, f.InverseFrequencies.Length);
        for (int i = 0; i < c.InverseFrequencies.Length; i++)
        {
            // float32 powf of two libraries: within 3 ulp (measured: equal but for one value in a few cases, at most 2 ulp).
            float e = c.InverseFrequencies[i], a = f.InverseFrequencies[i];
            Assert.True(Math.Abs(e - a) <= 4e-7 * Math.Abs(e), $"{c} inv_freq[{i}]: transformers {e:G9}, ours {a:G9}");
        }
        Assert.Equal(c.AttentionScaling, f.AttentionScaling, 12);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void TableMatchesTransformersCosAndSin(int index)
    {
        var c = s_cases.Value[index];
        int maxPos = c.Positions.Max() + 1;
        using var table = new RopeTable(c.InverseFrequencies, (float)c.AttentionScaling, maxPos);
        int half = c.InverseFrequencies.Length;
        Assert.Equal(2 * half, table.RotaryDim);
        for (int p = 0; p < c.Positions.Length; p++)
            for (int i = 0; i < half; i++)
            {
                int pos = c.Positions[p];
                // cos/sin of the same float32 angle: within a couple of ulp of the scaled value, plus
                // the error of a float cos at large angles (|angle| up to ~5000 here).
                double tol = 2e-7 * (1 + Math.Abs(c.InverseFrequencies[i] * pos) / 64);
                Assert.True(Math.Abs(c.Cos[p][i] - table.Cos[pos * half + i]) <= tol, $"{c} cos[{pos}, {i}]: {c.Cos[p][i]:G9} vs {table.Cos[pos * half + i]:G9}");
                Assert.True(Math.Abs(c.Sin[p][i] - table.Sin[pos * half + i]) <= tol, $"{c} sin[{pos}, {i}]: {c.Sin[p][i]:G9} vs {table.Sin[pos * half + i]:G9}");
            }
    }

    [Fact]
    public void BadRopeParametersAreClearErrors()
    {
        Assert.Contains("factor", Assert.Throws<ArgumentException>(() => RopeFrequencies.Compute("linear", 10000, 64, 1, 2048, null, null, 10)).Message);
        Assert.Contains("low_freq_factor", Assert.Throws<ArgumentException>(() =>
            RopeFrequencies.Compute("llama3", 10000, 64, 1, 2048, new RopeScalingParameters { Factor = 8 }, null, 10)).Message);
        Assert.Contains("short_factor", Assert.Throws<ArgumentException>(() =>
            RopeFrequencies.Compute("longrope", 10000, 64, 1, 2048, new RopeScalingParameters { LongFactor = new double[32] }, null, 10)).Message);
        Assert.Contains("32", Assert.Throws<ArgumentException>(() =>
            RopeFrequencies.Compute("longrope", 10000, 64, 1, 2048, new RopeScalingParameters { ShortFactor = new double[31], LongFactor = new double[32] }, null, 10)).Message);
        Assert.Contains("mrope", Assert.Throws<ArgumentException>(() => RopeFrequencies.Compute("mrope", 10000, 64, 1, 2048, null, null, 10)).Message);
        Assert.Contains("even", Assert.Throws<ArgumentException>(() => RopeFrequencies.Compute("default", 10000, 10, 0.5, 2048, null, null, 10)).Message);
    }
}
