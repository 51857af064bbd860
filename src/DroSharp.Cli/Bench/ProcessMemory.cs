namespace DroSharp.Cli.Bench;

/// <summary>Peak resident memory of this process (Linux <c>/proc/self/status</c> VmHWM), as the peer's ru_maxrss.</summary>
public static class ProcessMemory
{
    public static double PeakRssMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (ParseStatusKilobytes(line, "VmHWM:") is double kb) return kb / 1024.0;
        }
        catch (IOException) { }
        return Environment.WorkingSet / (1024.0 * 1024.0);
    }

    /// <summary>
    /// The number of a <c>/proc/self/status</c> line such as <c>"VmHWM:\t    2080 kB"</c>; the kernel pads the number
    /// to 8 characters, so from 10,000,000 kB on no blank separates it from the tab (<c>"VmHWM:\t10485760 kB"</c>).
    /// </summary>
    internal static double? ParseStatusKilobytes(string line, string key)
    {
        if (!line.StartsWith(key, StringComparison.Ordinal)) return null;
        var parts = line[key.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 1 && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : null;
    }
}
