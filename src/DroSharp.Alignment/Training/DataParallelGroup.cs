using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;
using DroSharp.Tensors.Distributed;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The trainer's view of the processes training together (one without MPI): what every rank must
/// agree on, built on the four collectives of <see cref="IGradientReducer"/> (sum, broadcast from
/// rank 0). Every method is collective: every rank calls it at the same point with the same
/// lengths where stated, and gets the same result. Sums are the reducer's (rank-ordered, so a run
/// is reproducible for a given number of ranks); gathers are sums in which each rank fills only its
/// own slot, exact because x + 0 = x.
/// </summary>
internal sealed class DataParallelGroup
{
    private readonly IGradientReducer _reducer;

    public DataParallelGroup(IGradientReducer reducer) => _reducer = reducer;

    public int Rank => _reducer.Rank;

    public int WorldSize => _reducer.WorldSize;

    /// <summary>Rank 0 alone writes the run directory.</summary>
    public bool WritesFiles => _reducer.Rank == 0;

    /// <summary>True on every rank when any rank asks to stop (Ctrl-C, SIGTERM): all stop after the same step.</summary>
    public bool AnyRank(bool here)
    {
        if (WorldSize == 1) return here;
        Span<double> flag = [here ? 1 : 0];
        _reducer.SumInPlace(flag);
        return flag[0] > 0;
    }

    /// <summary>Σ over ranks of each parameter's gradient, before clipping (see <see cref="GradientAllReduce"/>).</summary>
    public void SumGradients(IReadOnlyList<Tensor> parameters)
    {
        if (WorldSize > 1) _reducer.AllReduceGradients(parameters);
    }

    /// <summary>
    /// One step's loss (already divided by the micro-batches of the whole step), token count and
    /// objective metrics (or an evaluation's loss sum, batch count and metrics), summed over ranks. The metric names may differ between ranks (a label
    /// absent from one rank's micro-batches): the union of the names is gathered first, then the
    /// (sum, weight) pairs of every name are summed, so each name's value is Σ sums / Σ weights over
    /// all micro-batches of the step, as in one process.
    /// </summary>
    public (double Sum, long Count, ObjectiveMetrics Metrics) SumTotals(double sum, long count, ObjectiveMetrics metrics)
    {
        if (WorldSize == 1) return (sum, count, metrics);
        var entries = metrics.ExportEntries();
        var names = UnionOfNames(entries.Keys);
        var values = new double[2 + 2 * names.Length];
        values[0] = sum;
        values[1] = count;
        for (int i = 0; i < names.Length; i++)
            if (entries.TryGetValue(names[i], out var e)) { values[2 + 2 * i] = e[0]; values[3 + 2 * i] = e[1]; }
        _reducer.SumInPlace(values);
        var summed = new ObjectiveMetrics();
        for (int i = 0; i < names.Length; i++) summed.Add(names[i], values[2 + 2 * i], values[3 + 2 * i]);
        return (values[0], (long)values[1], summed);
    }

    /// <summary>Every rank's <paramref name="mine"/>, in rank order (rank r's at index r).</summary>
    public double[][] AllGather(ReadOnlySpan<double> mine)
    {
        if (WorldSize == 1) return [mine.ToArray()];
        var lengths = new double[WorldSize];
        lengths[Rank] = mine.Length;
        _reducer.SumInPlace(lengths);
        var offsets = new long[WorldSize + 1];
        for (int r = 0; r < WorldSize; r++) offsets[r + 1] = offsets[r] + (long)lengths[r];
        if (offsets[^1] > Array.MaxLength) throw new InvalidOperationException($"{offsets[^1]} values are too many to gather");
        var all = new double[offsets[^1]];
        mine.CopyTo(all.AsSpan((int)offsets[Rank]));
        _reducer.SumInPlace(all);
        var result = new double[WorldSize][];
        for (int r = 0; r < WorldSize; r++) result[r] = all[(int)offsets[r]..(int)offsets[r + 1]];
        return result;
    }

    /// <summary>Every rank's values become rank 0's (same length on every rank).</summary>
    public void BroadcastFromRankZero(Span<double> values)
    {
        if (WorldSize > 1) _reducer.Broadcast(MemoryMarshal.AsBytes(values));
    }

    /// <summary>
    /// Checks that every rank holds the same <paramref name="facts"/> (same names, in the same order, on
    /// every rank): rank 0's SHA-256 of each value is broadcast and compared. A rank that differs
    /// throws naming the first fact it disagrees on (the CLI turns that into an MPI_Abort with the
    /// message), so a job whose machines read different models, data or checkpoints stops at once
    /// instead of training on inconsistent gradients.
    /// </summary>
    public void RequireAgreement(IReadOnlyList<(string What, string Value)> facts, string hint)
    {
        if (WorldSize == 1) return;
        var digests = new byte[32 * facts.Count];
        for (int i = 0; i < facts.Count; i++)
            SHA256.HashData(Encoding.UTF8.GetBytes(facts[i].Value), digests.AsSpan(32 * i, 32));
        var mine = (byte[])digests.Clone();
        _reducer.Broadcast(digests);
        for (int i = 0; i < facts.Count; i++)
            if (!digests.AsSpan(32 * i, 32).SequenceEqual(mine.AsSpan(32 * i, 32)))
                throw new TrainingException($"rank {Rank} of {WorldSize} disagrees with rank 0 on the {facts[i].What}: {hint}");
    }

    /// <summary>SHA-256 (hex) of the parameters' names, shapes and float32 bits, in order.</summary>
    public static string ParameterDigest(IEnumerable<Tensor> parameters)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in parameters)
        {
            h.AppendData(Encoding.UTF8.GetBytes($"{p.Name} {p.Shape}\n"));
            h.AppendData(MemoryMarshal.AsBytes(p.Span));
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>The union of every rank's names, sorted (ordinal): the same list on every rank.</summary>
    private string[] UnionOfNames(IEnumerable<string> mine)
    {
        // Names travel as UTF-8 bytes, one per double, separated by 0 (names hold no NUL).
        var bytes = new List<double>();
        foreach (var name in mine)
        {
            foreach (byte b in Encoding.UTF8.GetBytes(name)) bytes.Add(b);
            bytes.Add(0);
        }
        var union = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rank in AllGather(CollectionsMarshal.AsSpan(bytes)))
        {
            var buffer = new List<byte>();
            foreach (double d in rank)
            {
                if (d != 0) { buffer.Add((byte)d); continue; }
                union.Add(Encoding.UTF8.GetString(buffer.ToArray()));
                buffer.Clear();
            }
        }
        return [.. union];
    }
}
