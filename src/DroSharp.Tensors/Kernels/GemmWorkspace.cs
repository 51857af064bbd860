using System.Runtime.InteropServices;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// The packing buffers of one thread, allocated once (native, 64-byte aligned) on the thread's
/// first GEMM and freed by the finalizer when the thread is gone:
/// an A block [MbMax/MR][KcMax, MR] (384 KB; up to 2 MB when A is kept across column blocks),
/// a B block [NbMax/NR][KcMax, NR] (1 MB, stays in L2) and a scratch tile [MrMax, NrMax] for edge tiles.
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    public const int MrMax = 16;
    public const int NrMax = 32;

    /// <summary>Floats in <see cref="PackedA"/>: a [KcMax, MbMax] block, or a kept A of up to 2 MB.</summary>
    public const int PackedACapacity = 1 << 19;

    [ThreadStatic] private static GemmWorkspace? t_current;

    /// <summary>The calling thread's workspace.</summary>
    public static GemmWorkspace Current => t_current ??= new GemmWorkspace();

    public readonly float* PackedA;
    public readonly float* PackedB;
    public readonly float* Tile;

    private GemmWorkspace()
    {
        PackedA = Allocate(Math.Max(PackedACapacity, GemmDriver.KcMax * GemmDriver.MbMax));
        PackedB = Allocate((nint)GemmDriver.KcMax * GemmDriver.NbMax);
        Tile = Allocate(MrMax * NrMax);
    }

    private static float* Allocate(nint floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    ~GemmWorkspace()
    {
        NativeMemory.AlignedFree(PackedA);
        NativeMemory.AlignedFree(PackedB);
        NativeMemory.AlignedFree(Tile);
    }
}
