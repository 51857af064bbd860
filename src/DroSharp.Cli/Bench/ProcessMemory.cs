namespace DroSharp.Cli.Bench;

/// <summary>Peak resident memory of this process (Linux <c>/proc/self/status</c> VmHWM), as the peer's ru_maxrss.</summary>
public static class ProcessMemory
{
    public static double PeakRssMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        catch (IOException) { }
        return Environment.WorkingSet / (1024.0 * 1024.0);
    }
}
