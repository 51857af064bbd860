using DroSharp.Alignment.Training;

namespace DroSharp.Cli;

/// <summary>The one line for an I/O failure of <c>dro train</c> (a full disk, a permission): the cause and where the run can continue from.</summary>
internal static class TrainFailure
{
    public static string Describe(Exception e, string runDirectory)
    {
        string cause = CliErrors.OneLine(e);
        RunDirectory run;
        try { run = new RunDirectory(runDirectory); }
        catch (Exception ex) when (ex is ArgumentException or IOException or NotSupportedException) { return cause; }
        // Only failures of a run that started (its run.json written) have a checkpoint to point to.
        if (e is FileNotFoundException or DirectoryNotFoundException || !File.Exists(run.OptionsFile)) return cause;
        var last = run.Checkpoints().LastOrDefault();
        return last.Directory is null
            ? $"{cause}; no checkpoint was saved yet: fix the cause and run the same command again"
            : $"{cause}; the last complete checkpoint is {last.Directory} (step {last.Step}): fix the cause and continue with: dro train --resume {run.Path}";
    }
}
