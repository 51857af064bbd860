using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// Issue 15, the CLI's share: I/O and environment errors as one line (permissions, read-only places, a full disk),
/// length limits for score and generate, outputs written all-or-nothing and never over an input, init refusing a
/// non-empty directory, SIGTERM treated like Ctrl-C. Each test failed before its fix.
/// </summary>
public sealed class CliReliabilityTests(CliWorkspace w) : IClassFixture<CliWorkspace>
{
    private static void AssertOneLineError((int Exit, string Out, string Err) r, params string[] expected)
    {
        Assert.True(r.Exit == 1, $"exit {r.Exit}\n{r.Err}");
        Assert.DoesNotContain("   at ", r.Err);
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("dro: ", StringComparison.Ordinal));
        foreach (var e in expected) Assert.Contains(e, line);
    }

    private string ProbeFile(int rows, int promptLength = 4)
    {
        string path = w.New("probe") + ".jsonl";
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i => JsonSerializer.Serialize(new
        {
            prompt_ids = Enumerable.Range(0, promptLength).Select(k => 3 + (i + k) % 20).ToArray(),
            completion_ids = new[] { 5 + i % 15, 1 },
        })));
        return path;
    }

    // ---------------------------------------------------------------- 3. I/O and environment errors

    [Fact]
    public void AnImmutableOutputDirectoryIsAOneLinePermissionError()
    {
        // As root only chattr +i makes a directory unwritable; where chattr is unavailable there is nothing to test.
        string locked = w.New("locked");
        Directory.CreateDirectory(locked);
        if (ChildDro.Run("chattr", "+i", locked) != 0) return;
        try
        {
            AssertOneLineError(CliRunner.Run("train", "--model", w.Model, "--data", w.Data, "--out", Path.Combine(locked, "run"), "--max-steps", "1"), "permission denied", locked);
            AssertOneLineError(CliRunner.Run("score", "--model", w.Model, "--data", w.Data, "--out", Path.Combine(locked, "s.jsonl")), "permission denied", locked);
            AssertOneLineError(CliRunner.Run("init", "--preset", "t5-tiny", "--out", Path.Combine(locked, "m")), "permission denied", locked);
            AssertOneLineError(CliRunner.Run("tokenizer", "train", "--type", "wordlevel", "--data", w.Data, "--out", Path.Combine(locked, "t.json")), locked);
        }
        finally
        {
            ChildDro.Run("chattr", "-i", locked);
        }
    }

    [Fact]
    public void UnreadableModelAndDataFilesAreOneLinePermissionErrors()
    {
        // Root reads everything: run dro as "nobody" (setpriv) when that is possible here.
        if (OperatingSystem.IsWindows() || Environment.UserName != "root" || ChildDro.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "test", "-r", ChildDro.DroDll) != 0) return;
        string dir = w.New("perm");
        Directory.CreateDirectory(dir);
        string model = Path.Combine(dir, "model"), data = Path.Combine(dir, "data.jsonl");
        CopyDirectory(w.Model, model);
        File.Copy(w.Data, data);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        foreach (var (unreadable, expect) in new[] { (Path.Combine(model, "model.safetensors"), "model.safetensors"), (data, "data.jsonl") })
        {
            File.SetUnixFileMode(unreadable, UnixFileMode.None);
            foreach (var args in new[]
                     {
                         new[] { "train", "--model", model, "--data", data, "--out", Path.Combine(dir, "run-" + Guid.NewGuid().ToString("N")), "--max-steps", "1" },
                         ["score", "--model", model, "--data", data, "--out", Path.Combine(dir, "s.jsonl")],
                     })
            {
                using var child = ChildDro.Start(args, asNobody: true);
                int exit = child.WaitForExit(TimeSpan.FromMinutes(2));
                AssertOneLineError((exit, child.Out, child.Err), expect);
            }
            File.SetUnixFileMode(unreadable, (UnixFileMode)0b110_100_100);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    [Fact]
    public void AFullDiskIsAOneLineErrorAndLeavesTheLastGoodCheckpoint()
    {
        // A 2 MiB tmpfs: room for a few t5-tiny checkpoints, not for all. Needs root and mount(2); elsewhere nothing to test.
        string mount = w.New("small-disk");
        Directory.CreateDirectory(mount);
        if (ChildDro.Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount) != 0) return;
        try
        {
            string run = Path.Combine(mount, "run");
            var r = CliRunner.Run("train", "--model", w.Model, "--data", w.Data, "--out", run, "--max-steps", "40", "--save-every", "1",
                "--save-total-limit", "0", "--batch-size", "4", "--warmup-steps", "0");
            AssertOneLineError(r, "disk is full", "last complete checkpoint", "--resume");
            var checkpoints = Directory.GetDirectories(Path.Combine(run, "checkpoints"));
            Assert.NotEmpty(checkpoints);
            Assert.All(checkpoints, c => Assert.DoesNotContain(".tmp-", c)); // the half-written one was removed
            Assert.All(checkpoints, c => Assert.True(File.Exists(Path.Combine(c, "trainer_state.json"))));

            // score: the output on the full disk stays as it was.
            string existing = Path.Combine(mount, "scores.jsonl");
            try { File.WriteAllText(existing, "old\n"); } catch (IOException) { return; } // not even that fits
            var s = CliRunner.Run("score", "--model", w.Model, "--data", ProbeFile(3000), "--out", existing);
            if (s.Exit != 0) AssertOneLineError(s, "disk is full");
            if (s.Exit != 0) Assert.Equal("old\n", File.ReadAllText(existing));
        }
        finally
        {
            ChildDro.Run("umount", "-l", mount);
        }
    }

    [Fact]
    public void InitChecksTheMemoryAConfigNeedsBeforeAllocating()
    {
        // t5-small-v1 (77M parameters, 0.36 GiB with buffers) against 256 MiB and against 4 GiB.
        var (_, config) = Models.ModelFamilies.Preset("t5-small-v1");
        var e = Assert.Throws<UserErrorException>(() => ModelMemory.RequireFits(config, "preset t5-small-v1", availableBytes: 256L << 20));
        Assert.Contains("parameters", e.Message);
        Assert.Contains("GiB", e.Message);
        ModelMemory.RequireFits(config, "preset t5-small-v1", availableBytes: 4L << 30);
        var (_, decoder) = Models.ModelFamilies.Preset("qwen2.5-0.5b");
        Assert.Throws<UserErrorException>(() => ModelMemory.RequireFits(decoder, "preset qwen2.5-0.5b", availableBytes: 1L << 30));
    }

    // ---------------------------------------------------------------- 5. length limits

    [Fact]
    public void ScoreAndGenerateCutLongPromptsAndSayHowMany()
    {
        string probe = ProbeFile(rows: 3, promptLength: 2000);
        string scores = w.New("scores") + ".jsonl";
        var r = CliRunner.Run("score", "--model", w.Model, "--data", probe, "--out", scores, "--max-prompt-length", "64");
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("truncated 3 of 3 prompts to their last 64 tokens", r.Err);
        Assert.Equal(3, File.ReadLines(scores).Count());
        var d = CliRunner.Run("score", "--model", w.Model, "--data", probe, "--out", scores);
        Assert.Contains("last 512 tokens", d.Err); // the default, as train's

        string samples = w.New("samples") + ".jsonl";
        var g = CliRunner.Run("generate", "--model", w.Model, "--prompts", probe, "--out", samples, "--max-new-tokens", "2", "--max-prompt-length", "32");
        Assert.True(g.Exit == 0, g.Err);
        Assert.Contains("truncated 3 of 3 prompts to their last 32 tokens", g.Err);
    }

    // ---------------------------------------------------------------- 6. outputs

    [Fact]
    public void AFailedRunLeavesThePreviousOutputAndAnOutputCannotBeItsInput()
    {
        string output = w.Write($"previous-{Guid.NewGuid():N}.jsonl", "{\"previous\": true}\n");
        // The second prompt is outside the vocabulary: generate fails after the output was opened.
        string prompts = w.Write($"prompts-{Guid.NewGuid():N}.jsonl", "{\"prompt_ids\": [3, 4]}\n{\"prompt_ids\": [3, 1000000]}\n");
        AssertOneLineError(CliRunner.Run("generate", "--model", w.Model, "--prompts", prompts, "--out", output), "vocabulary");
        Assert.Equal("{\"previous\": true}\n", File.ReadAllText(output));
        Assert.Empty(Directory.GetFiles(w.Root, ".*.tmp")); // no temporary left behind

        string data = w.Write($"in-{Guid.NewGuid():N}.jsonl", File.ReadAllText(w.Data));
        AssertOneLineError(CliRunner.Run("score", "--model", w.Model, "--data", data, "--out", data), "--data input");
        AssertOneLineError(CliRunner.Run("tokenizer", "train", "--type", "wordlevel", "--data", data, "--out", data), "--data input");
        Assert.Equal(File.ReadAllText(w.Data), File.ReadAllText(data));
    }

    // ---------------------------------------------------------------- 7. init

    [Fact]
    public void InitRefusesANonEmptyDirectoryAndForceReplacesItWhole()
    {
        string dir = w.New("model");
        CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", w.Tokenizer, "--out", dir);
        byte[] weights = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        AssertOneLineError(CliRunner.Run("init", "--preset", "t5-tiny", "--seed", "9", "--out", dir), "not empty", "--force");
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        CliRunner.Ok("init", "--preset", "t5-tiny", "--seed", "9", "--out", dir, "--force");
        Assert.NotEqual(weights, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(dir, "tokenizer.json"))); // not the old model's tokenizer with the new weights
    }

    // ---------------------------------------------------------------- 8. signals

    [Fact]
    public void SigtermStopsTrainingWithACheckpointAsCtrlCDoes()
    {
        string run = w.New("sigterm");
        using (var child = ChildDro.Start(["train", "--model", w.Model, "--data", w.Data, "--out", run, "--max-steps", "100000", "--save-every", "0",
                   "--batch-size", "4", "--log-every", "1"]))
        {
            Assert.True(child.WaitForErr("step 1", TimeSpan.FromMinutes(2)), child.Err);
            child.Signal("TERM");
            int exit = child.WaitForExit(TimeSpan.FromMinutes(2));
            Assert.True(exit == 130, $"exit {exit}\n{child.Err}");
            Assert.Contains("SIGTERM", child.Err);
            Assert.Contains("interrupted at step", child.Err);
        }
        var checkpoints = Directory.GetDirectories(Path.Combine(run, "checkpoints"));
        Assert.Single(checkpoints);
        Assert.True(File.Exists(Path.Combine(checkpoints[0], "trainer_state.json")));
    }
}
