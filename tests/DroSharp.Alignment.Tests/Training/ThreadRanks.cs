using DroSharp.Tensors.Distributed;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// N reducers in one process, one per thread, for testing what the trainer builds on the reducer
/// without MPI: sums are rank-ordered (((x₀ + x₁) + x₂) + …, as MpiGradientReducer's default), a
/// broadcast hands rank 0's bytes to all. A rank that fails, or waits more than 30 s for the others,
/// makes the others fail too, so a test cannot hang.
/// </summary>
internal sealed class ThreadRanks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Barrier _barrier;
    private readonly object?[] _deposits;

    private ThreadRanks(int n)
    {
        _barrier = new Barrier(n);
        _deposits = new object?[n];
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="n"/> threads, rank r's reducer on thread r; the results by rank.</summary>
    public static T[] Run<T>(int n, Func<IGradientReducer, T> body)
    {
        var group = new ThreadRanks(n);
        var results = new T[n];
        var errors = new Exception?[n];
        var threads = Enumerable.Range(0, n).Select(r => new Thread(() =>
        {
            try { results[r] = body(new Member(group, r)); }
            catch (Exception e)
            {
                errors[r] = e;
                group._barrier.RemoveParticipant(); // the others' next wait times out instead of hanging
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var failed = errors.Select((e, r) => (e, r)).Where(x => x.e is not null).ToList();
        if (failed.Count > 0) throw new AggregateException(failed.Select(x => new Exception($"rank {x.r}: {x.e!.Message}", x.e)));
        return results;
    }

    private void Wait()
    {
        if (!_barrier.SignalAndWait(Timeout)) throw new TimeoutException("another rank did not reach the collective");
    }

    private sealed class Member(ThreadRanks group, int rank) : IGradientReducer
    {
        public int Rank => rank;
        public int WorldSize => group._deposits.Length;

        public void SumInPlace(Span<float> values) => Sum(values);

        public void SumInPlace(Span<double> values) => Sum(values);

        private void Sum<T>(Span<T> values) where T : struct, System.Numerics.IAdditionOperators<T, T, T>
        {
            group._deposits[rank] = values.ToArray();
            group.Wait();
            var all = group._deposits.Select(d => (T[])d!).ToArray();
            int n = values.Length;
            if (all.Any(a => a.Length != n)) throw new InvalidOperationException("ranks summed buffers of different lengths");
            for (int i = 0; i < values.Length; i++)
            {
                T s = all[0][i];
                for (int r = 1; r < all.Length; r++) s += all[r][i];
                values[i] = s;
            }
            group.Wait();
        }

        public void Broadcast(Span<byte> values)
        {
            if (rank == 0) group._deposits[0] = values.ToArray();
            group.Wait();
            var root = (byte[])group._deposits[0]!;
            if (root.Length != values.Length) throw new InvalidOperationException("ranks broadcast buffers of different lengths");
            root.CopyTo(values);
            group.Wait();
        }

        public void Barrier() => group.Wait();

        public void Abort(int exitCode, string message) => throw new InvalidOperationException($"abort {exitCode}: {message}");

        public void Dispose() { }
    }
}
