using System.Runtime.InteropServices;

namespace DroSharp.Distributed.MpiProbe;

/// <summary>FNV-1a over the bytes of a result, to compare results across ranks and runs.</summary>
internal static class Fnv
{
    public const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Hash<T>(T[] values) where T : unmanaged
    {
        ulong h = Offset;
        foreach (byte b in MemoryMarshal.AsBytes(values.AsSpan())) h = (h ^ b) * Prime;
        return h;
    }

    public static ulong Add(ulong hash, ulong value) => (hash ^ value) * Prime;
}
