using System.Runtime.CompilerServices;

namespace DroSharp.Tensors.Threading;

/// <summary>
/// A fixed pool of worker threads with static work splitting: <c>For(count, job)</c> gives thread t
/// the contiguous range [t·count/T, (t+1)·count/T). The split depends only on <c>count</c> and the
/// thread count, and every output is written by exactly one thread in a fixed order, so results are
/// bit-identical from run to run. The calling thread does share 0; a call from inside a job (nested
/// parallelism) runs serially on the caller; calls from several threads at once take turns.
/// Thread count: <c>DROSHARP_THREADS</c>, else <see cref="Environment.ProcessorCount"/>.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private static readonly Lazy<WorkerPool> s_default = new(() => new WorkerPool(DefaultThreadCount()));

    /// <summary>The process-wide pool used by the kernels.</summary>
    public static WorkerPool Default => s_default.Value;

    [ThreadStatic] private static bool t_insideJob;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    // Serialises callers from different threads (tests, a generator beside a trainer): one generation at a time.
    private readonly object _callers = new();
    private long _generation;
    private int _pending;
    private volatile bool _disposed;

    // The job of the current generation: a pointer to the caller's struct and the invoker for its type.
    private void* _job;
    private delegate*<void*, int, int, void> _invoke;
    private int _count;
    private Exception? _error;

    public int Threads { get; }

    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        Threads = threads;
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"DroSharp worker {index}" };
            _threads[i].Start();
        }
    }

    public static int DefaultThreadCount()
    {
        var env = Environment.GetEnvironmentVariable("DROSHARP_THREADS");
        if (int.TryParse(env, out int n) && n >= 1) return n;
        return Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>The range thread <paramref name="thread"/> of <paramref name="threads"/> gets out of [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int Start, int End) Split(int count, int thread, int threads) =>
        ((int)((long)count * thread / threads), (int)((long)count * (thread + 1) / threads));

    /// <summary>
    /// Runs <paramref name="job"/> over [0, count) on all threads. With <paramref name="minPerThread"/>
    /// set, fewer threads are used when there is too little work to be worth waking them.
    /// </summary>
    public void For<TJob>(int count, ref TJob job, int minPerThread = 1) where TJob : struct, IParallelJob
    {
        if (count <= 0) return;
        int useful = Math.Max(1, Math.Min(Threads, count / Math.Max(1, minPerThread)));
        if (useful == 1 || t_insideJob || _threads.Length == 0)
        {
            job.Execute(0, count);
            return;
        }
        // With fewer useful threads than the pool has, the first `useful` threads split the work.
        lock (_callers) RunGeneration(count, Unsafe.AsPointer(ref job), &Invoke<TJob>, useful);
    }

    private static void Invoke<TJob>(void* job, int start, int end) where TJob : struct, IParallelJob =>
        Unsafe.AsRef<TJob>(job).Execute(start, end);

    private int _activeThreads;

    private void RunGeneration(int count, void* job, delegate*<void*, int, int, void> invoke, int active)
    {
        lock (_gate)
        {
            _job = job;
            _invoke = invoke;
            _count = count;
            _activeThreads = active;
            _error = null;
            _pending = _threads.Length;
            _generation++;
            Monitor.PulseAll(_gate);
        }

        RunShare(0);

        // Wait for the workers: spin briefly (jobs are short), then block.
        var spinner = new SpinWait();
        while (Volatile.Read(ref _pending) != 0)
        {
            if (spinner.Count < 200) spinner.SpinOnce(sleep1Threshold: -1);
            else
            {
                lock (_gate)
                {
                    while (_pending != 0) Monitor.Wait(_gate);
                }
            }
        }
        _job = null;
        if (_error is { } e) throw new AggregateException("a parallel kernel failed", e);
    }

    private void RunShare(int thread)
    {
        if (thread >= _activeThreads) return;
        var (start, end) = Split(_count, thread, _activeThreads);
        if (start >= end) return;
        bool was = t_insideJob;
        t_insideJob = true;
        try { _invoke(_job, start, end); }
        catch (Exception e) { _error ??= e; }
        finally { t_insideJob = was; }
    }

    private void WorkerLoop(int index)
    {
        long seen = 0;
        while (true)
        {
            // Spin a little for the next generation before sleeping: kernels come in quick bursts.
            var spinner = new SpinWait();
            while (Volatile.Read(ref _generation) == seen && !_disposed && spinner.Count < 400)
                spinner.SpinOnce(sleep1Threshold: -1);
            lock (_gate)
            {
                while (_generation == seen && !_disposed) Monitor.Wait(_gate);
                if (_disposed) return;
                seen = _generation;
            }
            RunShare(index);
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                lock (_gate) Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_gate) Monitor.PulseAll(_gate);
    }
}
