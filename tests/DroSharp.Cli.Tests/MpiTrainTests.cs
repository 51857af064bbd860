using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// <c>dro train</c> as an MPI job: <c>mpirun --allow-run-as-root --oversubscribe -np N dotnet dro.dll train …</c>,
/// one worker thread per rank, against the same command in one process. Every launch is bounded by
/// <see cref="DroProcess.DefaultTimeout"/> and killed with its process tree after it.
/// </summary>
public sealed class MpiTrainTests : IDisposable
{
    private const int Sigusr1 = 10; // Linux (x64, arm64); mpirun forwards it to every rank

    private readonly TempDirectory _temp = new("drosharp-cli-");
    private readonly string _dir;
    private readonly string _data, _tokenizer;

    public MpiTrainTests()
    {
        _dir = _temp.Path;
        _data = FeedbackFixture.Write(_dir, prompts: 16);
        _tokenizer = Path.Combine(_dir, "tokenizer.json");
        CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", _data, "--out", _tokenizer);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Two ranks with one micro-batch of 4 each make the same bits as one process with two
    /// micro-batches of 4: weights, value network, optimiser states, reference log-probs and every
    /// training metric, after 20 steps. (The rank-ordered all-reduce sums g₀ + g₁; the trainer forms
    /// each micro-batch's gradient whole and adds it once, so one process sums g₀ + g₁ too.)
    /// Evaluation is sharded over the ranks, so eval metrics agree to rounding only. RPO scores every
    /// row with the reference before the first step: its batches are shared out among the ranks.
    /// </summary>
    [MpiTheory]
    [InlineData("llama-tiny", "dro-v")]
    [InlineData("llama-tiny", "kto")]
    [InlineData("llama-tiny", "rpo")]
    [InlineData("t5-tiny", "dro-v")]
    public void TwoRanksMakeTheSameBitsAsOneProcessWithTwoMicroBatches(string preset, string algo)
    {
        string model = Init(preset);
        string[] common = ["train", "--algo", algo, "--model", model, "--data", _data, "--batch-size", "4", "--max-steps", "20",
            "--warmup-steps", "2", "--lr", "1e-3", "--log-every", "5", "--save-every", "10", "--eval-fraction", "0.25", "--eval-every", "10"];
        string single = Path.Combine(_dir, "single"), ranks = Path.Combine(_dir, "ranks");
        var one = DroProcess.Run([.. common, "--grad-accum", "2", "--out", single]);
        Assert.True(one.ExitCode == 0, one.ToString());
        var two = DroProcess.Mpi(2, [.. common, "--out", ranks]);
        Assert.True(two.ExitCode == 0, two.ToString());
        Assert.Contains($"done: 20 steps", two.StandardOutput);

        var files = new List<string> { "final/model.safetensors", "checkpoints/step-10/optimizer.policy.safetensors", "reference_logprobs.safetensors" };
        if (algo == "dro-v") files.AddRange(["final/value/model.safetensors", "checkpoints/step-10/optimizer.value.safetensors"]);
        foreach (var f in files) AssertSameBytes(single, ranks, f);
        AssertSameMetrics(single, ranks);
        var state1 = JsonDocument.Parse(File.ReadAllText(Path.Combine(single, "checkpoints/step-10/trainer_state.json"))).RootElement;
        var state2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(ranks, "checkpoints/step-10/trainer_state.json"))).RootElement;
        Assert.Equal(1, state1.GetProperty("processes").GetInt32());
        Assert.Equal(2, state2.GetProperty("processes").GetInt32());
        foreach (var name in new[] { "step", "tokens_seen", "sampler", "log_window" })
            Assert.Equal(state1.GetProperty(name).GetRawText(), state2.GetProperty(name).GetRawText());
    }

    /// <summary>
    /// A run with a global batch of 8 stopped with SIGUSR1 under mpirun (every rank stops after the
    /// same step, rank 0 saves), resumed in one process and stopped again, then resumed under mpirun
    /// to the end, has the bits of one uninterrupted process.
    /// </summary>
    [MpiFact]
    public void AJobStoppedBySignalAndResumedOnOtherProcessCountsEndsWithTheSameBits()
    {
        string model = Init("llama-tiny");
        string[] options = ["--algo", "dro-v", "--model", model, "--data", _data, "--batch-size", "4", "--global-batch-size", "8",
            "--max-steps", "60", "--warmup-steps", "2", "--lr", "1e-3", "--log-every", "1", "--save-every", "25", "--save-total-limit", "0"];
        string reference = Path.Combine(_dir, "reference"), run = Path.Combine(_dir, "run");
        var uninterrupted = DroProcess.Run(["train", .. options, "--out", reference]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());

        var first = DroProcess.StartMpi([new DroProcess.MpiApp(2, ["train", .. options, "--out", run])], p => StopAfterStep(p, run, 0));
        Assert.True(first.ExitCode == 130, first.ToString());
        long k1 = LastCheckpointStep(run);
        Assert.InRange(k1, 1, 59);
        Assert.Contains($"interrupted at step {k1}", first.StandardError);

        var second = DroProcess.RunWith(p => StopAfterStep(p, run, k1), "train", "--resume", run);
        Assert.True(second.ExitCode == 130, second.ToString());
        long k2 = LastCheckpointStep(run);
        Assert.InRange(k2, k1 + 1, 59);

        var last = DroProcess.Mpi(2, "train", "--resume", run);
        Assert.True(last.ExitCode == 0, last.ToString());
        AssertSameBytes(reference, run, "final/model.safetensors");
        AssertSameBytes(reference, run, "final/value/model.safetensors");
        AssertSameMetrics(reference, run);
    }

    [MpiFact]
    public void ARankThatCannotReadItsDataEndsTheJobWithItsMessage()
    {
        string model = Init("llama-tiny"), run = Path.Combine(_dir, "run"), missing = Path.Combine(_dir, "no-such-shard.jsonl");
        string[] options = ["train", "--model", model, "--out", run, "--batch-size", "4", "--max-steps", "5"];
        var job = DroProcess.StartMpi([new DroProcess.MpiApp(1, [.. options, "--data", _data]), new DroProcess.MpiApp(1, [.. options, "--data", missing])], null);
        Assert.False(job.TimedOut, job.ToString());
        Assert.True(job.ExitCode == 1, job.ToString());
        Assert.Contains($"[rank 1 of 2] dro: {missing}", job.StandardError);
        Assert.False(Directory.Exists(Path.Combine(run, "final")));
    }

    [MpiFact]
    public void RanksThatDisagreeStopBeforeTheFirstStep()
    {
        string model = Init("llama-tiny"), run = Path.Combine(_dir, "run");
        string[] options = ["train", "--model", model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "5"];
        var job = DroProcess.StartMpi([new DroProcess.MpiApp(1, [.. options, "--lr", "1e-3"]), new DroProcess.MpiApp(1, [.. options, "--lr", "2e-3"])], null);
        Assert.False(job.TimedOut, job.ToString());
        Assert.True(job.ExitCode == 1, job.ToString());
        Assert.Contains("[rank 1 of 2] dro: rank 1 of 2 disagrees with rank 0 on the options", job.StandardError);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")) && File.ReadAllText(Path.Combine(run, "metrics.jsonl")).Length > 0);
    }

    [MpiFact]
    public void AGlobalBatchThatDoesNotDivideAmongTheRanksIsAUserError()
    {
        string model = Init("llama-tiny");
        var job = DroProcess.Mpi(3, "train", "--model", model, "--data", _data, "--out", Path.Combine(_dir, "run"),
            "--batch-size", "4", "--global-batch-size", "8", "--max-steps", "5");
        Assert.False(job.TimedOut, job.ToString());
        Assert.True(job.ExitCode == 1, job.ToString());
        Assert.Contains("dro: --global-batch-size 8 does not divide into 3 process(es) × micro-batches of 4 (--batch-size)", job.StandardError);
    }

    [MpiFact]
    public void ResumingOnAnotherNumberOfProcessesNeedsAGlobalBatch()
    {
        string model = Init("llama-tiny"), run = Path.Combine(_dir, "run");
        var alone = DroProcess.Run("train", "--model", model, "--data", _data, "--out", run, "--batch-size", "4", "--grad-accum", "2", "--max-steps", "2");
        Assert.True(alone.ExitCode == 0, alone.ToString());
        var job = DroProcess.Mpi(2, "train", "--resume", run);
        Assert.False(job.TimedOut, job.ToString());
        Assert.True(job.ExitCode == 1, job.ToString());
        Assert.Contains("was written by a run on 1 process(es)", job.StandardError);
        Assert.Contains("--global-batch-size", job.StandardError);
    }

    private string Init(string preset)
    {
        string dir = Path.Combine(_dir, preset);
        CliRunner.Ok("init", "--preset", preset, "--tokenizer", _tokenizer, "--out", dir, "--seed", "3");
        return dir;
    }

    /// <summary>Waits until the run has logged a step after <paramref name="after"/>, then sends SIGUSR1 to the process.</summary>
    private static void StopAfterStep(Process process, string run, long after)
    {
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < DroProcess.DefaultTimeout)
        {
            if (MetricSteps(run).Any(s => s > after))
            {
                Assert.Equal(0, Kill(process.Id, Sigusr1));
                return;
            }
            Thread.Sleep(20);
        }
    }

    private static long[] MetricSteps(string run)
    {
        string file = Path.Combine(run, "metrics.jsonl");
        if (!File.Exists(file)) return [];
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var steps = new List<long>();
            while (reader.ReadLine() is { } line)
            {
                int i = line.IndexOf("\"step\":", StringComparison.Ordinal);
                if (i < 0) continue;
                var digits = line.AsSpan(i + 7).TrimStart();
                int n = 0;
                while (n < digits.Length && char.IsAsciiDigit(digits[n])) n++;
                if (n > 0) steps.Add(long.Parse(digits[..n]));
            }
            return [.. steps];
        }
        catch (IOException)
        {
            return []; // replaced while being read (a resumed run rewrites it): look again
        }
    }

    private static long LastCheckpointStep(string run) =>
        new Alignment.Training.RunDirectory(run).Checkpoints().Select(c => c.Step).DefaultIfEmpty(-1).Max();

    private static void AssertSameBytes(string a, string b, string file)
    {
        byte[] x = File.ReadAllBytes(Path.Combine(a, file)), y = File.ReadAllBytes(Path.Combine(b, file));
        Assert.True(x.AsSpan().SequenceEqual(y), $"{file} differs between {a} and {b}");
    }

    /// <summary>
    /// Training lines equal in every value but the timings (tokens_per_s; allreduce_s, logged under MPI
    /// only); evaluation lines to 1e-9 relative.
    /// </summary>
    private static void AssertSameMetrics(string a, string b)
    {
        var x = File.ReadAllLines(Path.Combine(a, "metrics.jsonl"));
        var y = File.ReadAllLines(Path.Combine(b, "metrics.jsonl"));
        Assert.Equal(x.Length, y.Length);
        for (int i = 0; i < x.Length; i++)
        {
            var p = Values(x[i]);
            var q = Values(y[i]);
            p.Remove("allreduce_s");
            q.Remove("allreduce_s");
            Assert.Equal(p.Keys, q.Keys);
            bool eval = p.ContainsKey("eval_loss");
            foreach (var (k, v) in p)
            {
                if (k == "tokens_per_s") continue;
                if (eval) Assert.True(Math.Abs(v - q[k]) <= 1e-9 * Math.Max(Math.Abs(v), Math.Abs(q[k])), $"line {i + 1} {k}: {v} vs {q[k]}");
                else Assert.True(v.Equals(q[k]), $"line {i + 1} {k}: {v:R} vs {q[k]:R}");
            }
        }
    }

    private static SortedDictionary<string, double> Values(string line)
    {
        var d = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in JsonDocument.Parse(line).RootElement.EnumerateObject())
            d[p.Name] = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN;
        return d;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
