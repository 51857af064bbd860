using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Models.Checkpoints;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Cli;

/// <summary>
/// Which failures are the user's or the environment's (bad input, options, files, permissions, a full disk) and so
/// one line on stderr with exit code 1, and how that line reads. Everything else is an internal fault (exit 2).
/// </summary>
internal static class CliErrors
{
    /// <summary>The failure to report: the innermost of wrappers that add nothing (aggregate, type initialiser, invocation).</summary>
    public static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or TypeInitializationException or System.Reflection.TargetInvocationException
               && e.InnerException is not null)
            e = e.InnerException!;
        return e;
    }

    /// <summary>
    /// Bad input, bad options, missing or unreadable files, permissions, a full disk: one line, no stack trace.
    /// I/O errors count as user errors (what the user must fix is the path or the machine, not DroSharp).
    /// </summary>
    public static bool IsUserError(Exception e) => Unwrap(e) is UserErrorException or TrainingException or DataFormatException
        or CheckpointFormatException or ChatTemplateException or UnencodableTextException
        or IOException or UnauthorizedAccessException or System.Security.SecurityException or Distributed.MpiException
        or OutOfMemoryException;

    /// <summary>The message on one line (newlines folded), prefixed with what kind of problem it is when the exception alone would not say.</summary>
    public static string OneLine(Exception e)
    {
        e = Unwrap(e);
        string message = e.Message;
        if (e is IOException io && IsDiskFull(io)) message = $"the disk is full: {message}";
        else if (e is UnauthorizedAccessException) message = $"permission denied: {message}";
        else if (e is OutOfMemoryException)
            message = "out of memory: the model and the batch need more memory than this machine has free; use a smaller batch " +
                      "(--batch-size with --grad-accum keeps the batch per step), --gradient-checkpointing, or --lora with --base-dtype bf16";
        return string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException e) => OperatingSystem.IsWindows()
        ? (e.HResult & 0xFFFF) is 0x70 or 0x27
        : e.HResult is 28 or 122 || e.Message.Contains("No space left on device", StringComparison.Ordinal);
}
