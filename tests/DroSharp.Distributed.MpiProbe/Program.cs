using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using DroSharp.Distributed;
using DroSharp.Tensors;
using DroSharp.Tensors.Distributed;

namespace DroSharp.Distributed.MpiProbe;

/// <summary>
/// Run once per rank by the MPI tests (<c>mpirun -np N dotnet DroSharp.Distributed.MpiProbe.dll COMMAND …</c>).
/// Each command checks its own results against values every rank can compute alone (each rank's
/// data comes from a generator seeded by the rank) and prints "rank R: …" lines; any mismatch throws,
/// which ends the job with a non-zero exit code through RunGuarded.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: MpiProbe info | sum SUMMATION CHUNK LENGTHS | bcast LENGTH CHUNK | barrier DIR | " +
                "grads BUCKET | fail RANK MESSAGE | exitcode RANK CODE | unhandled RANK | nullref | bench SUMMATION MIB…");
            return 64;
        }
        var options = new MpiReducerOptions();
        if (args[0] is "sum" or "bench") options = options with { Summation = Enum.Parse<MpiSummation>(args[1]) };
        if (args[0] == "sum") options = options with { ChunkElements = Int(args[2]) };
        if (args[0] == "bcast") options = options with { ChunkElements = Int(args[2]) };
        IGradientReducer created;
        try
        {
            created = DistributedEnvironment.Create(options);
        }
        catch (MpiException e)
        {
            // No MPI yet, so nothing to abort: every rank fails alike and the launcher ends the job.
            Console.Error.WriteLine($"probe: {e.Message}");
            return 1;
        }
        using var reducer = created;
        return reducer.RunGuarded(() => Run(reducer, args), e => (3, $"probe: {e.Message}"));
    }

    private static int Run(IGradientReducer reducer, string[] args)
    {
        switch (args[0])
        {
            case "info":
                Say(reducer, reducer is MpiGradientReducer mpi
                    ? $"abi={mpi.Abi} size={mpi.WorldSize} thread={mpi.ThreadLevel} library={mpi.LibraryPath} version={mpi.LibraryVersion.Split('\n')[0]}"
                    : $"local size={reducer.WorldSize}");
                return 0;
            case "sum":
                return Sum(reducer, Enum.Parse<MpiSummation>(args[1]), args[3].Split(',').Select(Int).ToArray());
            case "bcast":
                return Broadcast(reducer, Int(args[1]));
            case "barrier":
                return Barrier(reducer, args[1]);
            case "grads":
                return Gradients(reducer, Int(args[1]));
            case "fail":
                return Fail(reducer, Int(args[1]), args[2]);
            case "exitcode":
                if (reducer.Rank == Int(args[1])) return Int(args[2]);
                reducer.Barrier(); // waits for a rank that never comes
                return 0;
            case "unhandled":
                return Unhandled(reducer, Int(args[1]));
            case "nullref":
                return NullReference(reducer);
            case "bench":
                return Bench(reducer, Enum.Parse<MpiSummation>(args[1]), args.Skip(2).Select(Int).ToArray());
            default:
                throw new ArgumentException($"unknown probe command '{args[0]}'");
        }
    }

    /// <summary>
    /// Sums float and double buffers of each length; RankOrdered must equal the sequential sum in
    /// rank order bit for bit, Library must be within the rounding bound of the exact sum. Prints a
    /// hash of every result so the test can compare ranks and runs.
    /// </summary>
    private static int Sum(IGradientReducer reducer, MpiSummation summation, int[] lengths)
    {
        ulong hash = Fnv.Offset;
        foreach (int length in lengths)
        {
            hash = Fnv.Add(hash, CheckSum<float>(reducer, summation, length, seed: 1));
            hash = Fnv.Add(hash, CheckSum<double>(reducer, summation, length, seed: 2));
        }
        Say(reducer, $"sum ok hash={hash:x16}");
        return 0;
    }

    private static ulong CheckSum<T>(IGradientReducer reducer, MpiSummation summation, int length, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mine = Data<T>(reducer.Rank, length, seed);
        var values = (T[])mine.Clone();
        if (typeof(T) == typeof(float)) reducer.SumInPlace(MemoryExtensions.AsSpan((float[])(object)values));
        else reducer.SumInPlace(MemoryExtensions.AsSpan((double[])(object)values));

        var ordered = new T[length];
        var exact = new double[length];
        var magnitude = new double[length];
        for (int r = 0; r < reducer.WorldSize; r++)
        {
            var x = r == reducer.Rank ? mine : Data<T>(r, length, seed);
            for (int i = 0; i < length; i++)
            {
                ordered[i] = r == 0 ? x[i] : ordered[i] + x[i];
                exact[i] += double.CreateChecked(x[i]);
                magnitude[i] += Math.Abs(double.CreateChecked(x[i]));
            }
        }
        double eps = double.CreateChecked(T.BitIncrement(T.One) - T.One); // machine epsilon of T
        for (int i = 0; i < length; i++)
        {
            if (summation == MpiSummation.RankOrdered)
            {
                if (!BitEquals(values[i], ordered[i]))
                    throw new InvalidOperationException($"{typeof(T).Name}[{length}] element {i}: {values[i]:R} ≠ rank-ordered sum {ordered[i]:R}");
            }
            else
            {
                double error = Math.Abs(double.CreateChecked(values[i]) - exact[i]);
                // |fl(Σ) − Σ| ≤ (N − 1)·ε·Σ|x| for any order of N − 1 additions, plus the final rounding.
                double bound = reducer.WorldSize * eps * magnitude[i] + 1e-300;
                if (error > bound)
                    throw new InvalidOperationException($"{typeof(T).Name}[{length}] element {i}: {values[i]:R} differs from {exact[i]:R} by {error:R} > {bound:R}");
            }
        }
        return Fnv.Hash(values);
    }

    private static bool BitEquals<T>(T a, T b) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? BitConverter.SingleToInt32Bits((float)(object)a) == BitConverter.SingleToInt32Bits((float)(object)b)
            : BitConverter.DoubleToInt64Bits((double)(object)a) == BitConverter.DoubleToInt64Bits((double)(object)b);

    /// <summary>Rank r's buffer: signs and magnitudes over 2⁻¹²…2¹², so the order of additions shows in the bits.</summary>
    private static T[] Data<T>(int rank, int length, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed * 1000 + (ulong)rank);
        var x = new T[length];
        for (int i = 0; i < length; i++)
        {
            double v = (random.NextDouble() - 0.5) * Math.Pow(2, random.NextInt(25) - 12);
            x[i] = T.CreateChecked(v);
        }
        return x;
    }

    /// <summary>Rank 0's bytes reach every rank; the other ranks start with different bytes.</summary>
    private static int Broadcast(IGradientReducer reducer, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = reducer.Rank == 0 ? (byte)(i * 31 + 7) : (byte)(reducer.Rank + 100);
        reducer.Broadcast(bytes);
        for (int i = 0; i < length; i++)
            if (bytes[i] != (byte)(i * 31 + 7)) throw new InvalidOperationException($"byte {i} is {bytes[i]} after the broadcast");
        Say(reducer, $"bcast ok hash={Fnv.Hash(bytes):x16}");
        return 0;
    }

    /// <summary>
    /// Rank r marks its arrival in a file after sleeping 300·r ms, then waits at the barrier; after
    /// it every rank must see every mark (rank 0 would look before the others wrote without one).
    /// </summary>
    private static int Barrier(IGradientReducer reducer, string directory)
    {
        Thread.Sleep(300 * reducer.Rank);
        File.WriteAllText(Path.Combine(directory, $"arrived-{reducer.Rank}"), "");
        reducer.Barrier();
        for (int r = 0; r < reducer.WorldSize; r++)
            if (!File.Exists(Path.Combine(directory, $"arrived-{r}")))
                throw new InvalidOperationException($"passed the barrier before rank {r} arrived");
        Say(reducer, "barrier ok");
        return 0;
    }

    /// <summary>
    /// AllReduceGradients over tensors of odd lengths around the bucket size: gradients must equal
    /// the rank-ordered sum; one tensor has a gradient on rank 1 only, one on no rank.
    /// </summary>
    private static int Gradients(IGradientReducer reducer, int bucket)
    {
        int[] lengths = [7, 1, bucket - 1, bucket, 3 * bucket + 5, 13, bucket / 2 + 1, bucket / 2, 2];
        const int onRankOneOnly = 5, onNoRank = 8;
        var parameters = new List<Tensor>();
        var expected = new List<float[]>();
        for (int t = 0; t < lengths.Length; t++)
        {
            var p = Tensor.Zeros(lengths[t]);
            parameters.Add(p);
            var sum = new float[lengths[t]];
            for (int r = 0; r < reducer.WorldSize; r++)
            {
                bool has = t != onNoRank && (t != onRankOneOnly || r == 1);
                var x = has ? Data<float>(r, lengths[t], seed: 10 + (ulong)t) : new float[lengths[t]];
                for (int i = 0; i < x.Length; i++) sum[i] = r == 0 ? x[i] : sum[i] + x[i];
                if (r == reducer.Rank && has) p.Grad = Tensor.FromArray(x, lengths[t]);
            }
            expected.Add(sum);
        }
        reducer.AllReduceGradients(parameters, bucket);
        ulong hash = Fnv.Offset;
        for (int t = 0; t < lengths.Length; t++)
        {
            if (t == onNoRank)
            {
                if (parameters[t].Grad is not null) throw new InvalidOperationException("a parameter without a gradient on any rank got one");
                continue;
            }
            var g = parameters[t].Grad ?? throw new InvalidOperationException($"parameter {t} has no gradient after the all-reduce");
            for (int i = 0; i < lengths[t]; i++)
                if (BitConverter.SingleToInt32Bits(g[i]) != BitConverter.SingleToInt32Bits(expected[t][i]))
                    throw new InvalidOperationException($"parameter {t} element {i}: {g[i]:R} ≠ {expected[t][i]:R}");
            hash = Fnv.Add(hash, Fnv.Hash(g.ToArray()));
        }
        Say(reducer, $"grads ok hash={hash:x16}");
        return 0;
    }

    /// <summary>The failing rank throws after a short delay; the others wait in a barrier it never reaches.</summary>
    private static int Fail(IGradientReducer reducer, int failingRank, string message)
    {
        if (reducer.Rank == failingRank)
        {
            Thread.Sleep(500);
            Say(reducer, $"failing at {Stopwatch.GetTimestamp()}");
            throw new InvalidOperationException(message);
        }
        reducer.Barrier();
        Say(reducer, "passed a barrier the failing rank never reached");
        return 0;
    }

    /// <summary>An exception on a thread of the failing rank that nobody catches.</summary>
    private static int Unhandled(IGradientReducer reducer, int failingRank)
    {
        if (reducer.Rank == failingRank)
        {
            var thread = new Thread(() => throw new InvalidOperationException("thrown on a worker thread"));
            thread.Start();
            thread.Join();
        }
        reducer.Barrier();
        Say(reducer, "passed a barrier the failing rank never reached");
        return 0;
    }

    /// <summary>
    /// .NET turns SIGSEGV on a null dereference into NullReferenceException; MPI libraries install
    /// signal handlers too. The exception must still be catchable after MPI_Init.
    /// </summary>
    private static int NullReference(IGradientReducer reducer)
    {
        CatchNullReferences();
        var one = new float[] { 1 };
        reducer.SumInPlace(one);
        if (one[0] != reducer.WorldSize) throw new InvalidOperationException($"sum of ones is {one[0]}");
        CatchNullReferences(); // also after communication has started
        Say(reducer, "nullref ok");
        return 0;
    }

    private static void CatchNullReferences()
    {
        int caught = 0;
        for (int i = 0; i < 3; i++)
        {
            try
            {
                string? s = i < 0 ? "" : null;
                caught += s!.Length;
            }
            catch (NullReferenceException)
            {
                caught++;
            }
        }
        if (caught != 3) throw new InvalidOperationException($"caught {caught} of 3 NullReferenceExceptions");
    }

    /// <summary>Seconds per all-reduce of float buffers of each size (MiB) on rank 0: best of a few.</summary>
    private static int Bench(IGradientReducer reducer, MpiSummation summation, int[] mebibytes)
    {
        foreach (int mib in mebibytes)
        {
            var values = new float[mib * (1 << 20) / sizeof(float)];
            values.AsSpan().Fill(1f);
            reducer.SumInPlace(values); // warm-up: page faults, connections
            int repeats = mib >= 256 ? 3 : mib >= 16 ? 5 : 20;
            double best = double.MaxValue;
            for (int k = 0; k < repeats; k++)
            {
                reducer.Barrier();
                long start = Stopwatch.GetTimestamp();
                reducer.SumInPlace(values);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            if (reducer.Rank == 0)
                Say(reducer, string.Create(CultureInfo.InvariantCulture,
                    $"bench {summation} {mib} MiB: {best * 1e3:F2} ms, {mib * (double)(1 << 20) / best / 1e9:F2} GB/s"));
        }
        return 0;
    }

    private static void Say(IGradientReducer reducer, string line) => Console.WriteLine($"rank {reducer.Rank}: {line}");

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
}
