using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DroSharp.Cli.Bench;

/// <summary>
/// CPU time used by this process so far (all threads), in seconds: clock_gettime(CLOCK_PROCESS_CPUTIME_ID)
/// on Linux (nanosecond resolution, so 20 ms FMA trials can be timed), else <see cref="Process.TotalProcessorTime"/>.
/// </summary>
public static partial class ProcessCpuTime
{
    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    public static double Seconds()
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64)
        {
            try
            {
                if (ClockGetTime(ClockProcessCpuTimeId, out var t) == 0) return t.Seconds + t.Nanoseconds * 1e-9;
            }
            catch (DllNotFoundException) { }
            catch (EntryPointNotFoundException) { }
        }
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
