namespace DroSharp.Cli.Tests;

public class CliErrorTests
{
    [Fact]
    public void OutOfMemoryIsOneLineThatSaysWhatToChange()
    {
        // A native allocation that fails (NativeMemory.AlignedAlloc in the tensor arena) throws OutOfMemoryException:
        // an environment error, not a fault of dro.
        var e = new OutOfMemoryException("Insufficient memory to continue the execution of the program.");
        Assert.True(CliErrors.IsUserError(e));
        string line = CliErrors.OneLine(e);
        Assert.StartsWith("out of memory", line);
        Assert.Contains("--gradient-checkpointing", line);
        Assert.DoesNotContain('\n', line);
        var (code, message) = DataParallelRun.Describe(e);
        Assert.Equal(1, code);
        Assert.Equal("dro: " + line, message);
    }

    [Fact]
    public void BadDataRowIsOneLineNamingFileLineAndField()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string tok = Path.Combine(dir, "tokenizer.json"), m0 = Path.Combine(dir, "m0"), data = FeedbackFixture.Write(dir);
            CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", data, "--out", tok);
            CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", tok, "--out", m0);
            string bad = Path.Combine(dir, "bad.jsonl");
            File.WriteAllLines(bad, ["{\"prompt\": \"a\", \"completion\": \"b\", \"reward\": 1.0}", "{\"prompt\": \"a\", \"completion\": \"b\", \"reward\": \"high\"}"]);
            var (code, _, err) = CliRunner.Run("train", "--model", m0, "--data", bad, "--out", Path.Combine(dir, "r"));
            Assert.Equal(1, code);
            Assert.Contains("bad.jsonl:2", err);
            Assert.Contains("reward", err);
            Assert.DoesNotContain("   at ", err); // no stack trace

            var (code2, _, err2) = CliRunner.Run("train", "--algo", "kto", "--batch-size", "1", "--model", m0, "--data", data, "--out", Path.Combine(dir, "r2"));
            Assert.Equal(1, code2);
            Assert.Contains("micro-batch", err2);

            var (code3, _, err3) = CliRunner.Run("train", "--model", Path.Combine(dir, "nope"), "--data", data, "--out", Path.Combine(dir, "r3"));
            Assert.Equal(1, code3);
            Assert.Contains("nope", err3);
        }
    }

    [Fact]
    public void HelpListsTheTrainOptionsWithDefaults()
    {
        var (code, output, _) = CliRunner.Run("train", "--help");
        Assert.Equal(0, code);
        foreach (var opt in new[] { "--algo", "--tau", "--beta", "--lr", "--value-lr", "--optimizer", "--batch-size", "--grad-accum", "--resume", "--config", "--skip-bad-rows", "--eval-fraction", "--schedule" })
            Assert.Contains(opt, output);
        Assert.Contains("[default: dro-v]", output);
    }
}
