using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Optim;

/// <summary>
/// Adafactor exactly as Hugging Face's <c>transformers.optimization.Adafactor</c> with an external
/// learning rate (<c>relative_step=False</c>, <c>warmup_init=False</c>), in float32. Per parameter,
/// with t its own update count and g its gradient:
/// <code>
/// lr_t  = lr · max(eps2, RMS(p))   when scale_parameter (RMS of p before this update), else lr
/// β2_t  = 1 − t^decay_rate          decay_rate −0.8: the DRO paper's "decay rate 0.8"
/// u     = g² + eps1                 (float)
/// rank ≥ 2, p: [..., R, C], factored second moments (Adafactor §3):
///   row ← β2_t·row + (1 − β2_t)·mean_C(u)          row: [..., R]
///   col ← β2_t·col + (1 − β2_t)·mean_R(u)          col: [..., C]
///   û   = rsqrt(row / mean_R(row)) ⊗ rsqrt(col) · g
/// rank &lt; 2:
///   v   ← β2_t·v + (1 − β2_t)·u;   û = rsqrt(v) · g
/// û ← û / max(RMS(û) / clip_threshold, 1) · lr_t     update clipping
/// with β1:  m ← β1·m + (1 − β1)·û;   û = m
/// p ← p − wd·lr_t·p   (when weight_decay ≠ 0)
/// p ← p − û
/// </code>
/// RMS(x) = ‖x‖₂/√n. State slots, HF's names: <c>exp_avg_sq_row</c> and <c>exp_avg_sq_col</c>
/// (factored) or <c>exp_avg_sq</c>, plus <c>exp_avg</c> when β1 is set. Norms and means are summed
/// in double in a fixed order (see <c>DeterministicSum</c>) and rounded to float.
/// <para>
/// The defaults are the HF class's (<c>scale_parameter=True</c>). Note that the HF Trainer's
/// <c>optim="adafactor"</c> (and so TRL) passes <c>scale_parameter=False</c>, under which lr_t = lr;
/// with scaling, lr_t is lr times the parameter's RMS (often 0.01–1), a much smaller step.
/// HF's <c>relative_step</c> / <c>warmup_init</c> modes (an internal schedule that ignores the
/// external rate) are not implemented: the rate always comes from <see cref="Optimizer.Step"/>.
/// </para>
/// </summary>
public sealed class Adafactor : Optimizer
{
    // Scratch reused by every parameter: the update û, and the row and column factors.
    private Tensor? _update, _rowFactor, _colFactor;

    /// <param name="eps1">Added to g² (HF's eps[0]).</param>
    /// <param name="eps2">Floor of the parameter scale (HF's eps[1]).</param>
    /// <param name="decayRate">β2_t = 1 − t^decayRate; must be negative.</param>
    /// <param name="beta1">First-moment decay; null (the default) keeps no first moment.</param>
    /// <param name="scaleParameter">Multiply the learning rate by max(eps2, RMS(p)).</param>
    /// <param name="weightDecayFilter">Which parameters are decayed (all when null); see <see cref="WeightDecayFilter"/>.</param>
    public Adafactor(IReadOnlyList<Tensor> parameters, double eps1 = 1e-30, double eps2 = 1e-3, double clipThreshold = 1.0,
        double decayRate = -0.8, double? beta1 = null, double weightDecay = 0.0, bool scaleParameter = true,
        Func<Tensor, bool>? weightDecayFilter = null)
        : base(parameters, weightDecayFilter)
    {
        if (!(eps1 >= 0) || double.IsInfinity(eps1)) throw new ArgumentOutOfRangeException(nameof(eps1), $"eps1 {eps1} must be finite and ≥ 0");
        if (!(eps2 >= 0) || double.IsInfinity(eps2)) throw new ArgumentOutOfRangeException(nameof(eps2), $"eps2 {eps2} must be finite and ≥ 0");
        if (!(clipThreshold > 0) || double.IsInfinity(clipThreshold)) throw new ArgumentOutOfRangeException(nameof(clipThreshold), $"clip threshold {clipThreshold} must be finite and > 0");
        if (!(decayRate < 0) || double.IsInfinity(decayRate)) throw new ArgumentOutOfRangeException(nameof(decayRate), $"decay rate {decayRate} must be finite and < 0 (β2_t = 1 − t^decayRate)");
        if (beta1 is { } b1 && !(b1 >= 0 && b1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"beta1 {b1} must be in [0, 1)");
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weight decay {weightDecay} must be finite and ≥ 0");
        Eps1 = eps1;
        Eps2 = eps2;
        ClipThreshold = clipThreshold;
        DecayRate = decayRate;
        Beta1 = beta1;
        WeightDecay = weightDecay;
        ScaleParameter = scaleParameter;
    }

    public override string Kind => "adafactor";
    public double Eps1 { get; }
    public double Eps2 { get; }
    public double ClipThreshold { get; }
    public double DecayRate { get; }
    public double? Beta1 { get; }
    public double WeightDecay { get; }
    public bool ScaleParameter { get; }

    private static bool IsFactored(Shape s) => s.Rank >= 2;

    private protected override ParameterState DescribeState(Tensor parameter)
    {
        var shape = parameter.Shape;
        var slots = new List<string>(3);
        var shapes = new List<Shape>(3);
        if (Beta1 is not null)
        {
            slots.Add("exp_avg");
            shapes.Add(shape);
        }
        if (IsFactored(shape))
        {
            Span<int> dims = stackalloc int[Shape.MaxRank];
            for (int a = 0; a < shape.Rank; a++) dims[a] = shape[a];
            int rank = shape.Rank;
            slots.Add("exp_avg_sq_row");
            shapes.Add(Shape.FromSpan(dims[..(rank - 1)]));                 // shape[:-1]
            dims[rank - 2] = shape[rank - 1];
            slots.Add("exp_avg_sq_col");
            shapes.Add(Shape.FromSpan(dims[..(rank - 1)]));                 // shape[:-2] + shape[-1:]
        }
        else
        {
            slots.Add("exp_avg_sq");
            shapes.Add(shape);
        }
        return new ParameterState([.. slots], [.. shapes]);
    }

    private protected override void ReleaseScratch()
    {
        _update?.Dispose();
        _rowFactor?.Dispose();
        _colFactor?.Dispose();
        _update = _rowFactor = _colFactor = null;
    }

    private void EnsureScratch()
    {
        if (_update is not null) return;
        int maxLength = 1, maxRows = 1, maxCols = 1;
        foreach (var p in Parameters)
        {
            maxLength = Math.Max(maxLength, p.Length);
            if (IsFactored(p.Shape))
            {
                int cols = p.Shape.Last;
                maxRows = Math.Max(maxRows, p.Length / Math.Max(1, cols));
                maxCols = Math.Max(maxCols, p.Length / Math.Max(1, p.Shape[-2]));
            }
        }
        _update = Tensor.Uninitialized(new Shape(maxLength));
        _rowFactor = Tensor.Uninitialized(new Shape(maxRows));
        _colFactor = Tensor.Uninitialized(new Shape(maxCols));
    }

    private protected override unsafe void Update(Tensor p, Tensor grad, ParameterState state, double lr, bool decay)
    {
        int n = p.Length;
        if (n == 0) return;
        EnsureScratch();
        var pool = Pool;

        // lr_t = lr·max(eps2, RMS(p)). HF's max keeps eps2 unless RMS is strictly larger (so also for a NaN RMS);
        // an RMS win gives a float32 tensor times lr.
        float lrT = (float)lr;
        if (ScaleParameter)
        {
            float rmsP = Rms(pool, p.Data, n);
            lrT = rmsP > Eps2 ? rmsP * (float)lr : (float)(Eps2 * lr);
        }

        double beta2T = 1.0 - Math.Pow(state.Step, DecayRate);
        float b2 = (float)beta2T, oneMinusB2 = (float)(1.0 - beta2T), eps1 = (float)Eps1;
        float* u = _update!.Data;
        int k = Beta1 is null ? 0 : 1;

        if (IsFactored(p.Shape))
        {
            int cols = p.Shape[-1], rows = p.Shape[-2];
            int matrices = n / (rows * cols);
            float* row = state.Buffers[k].Data, col = state.Buffers[k + 1].Data;
            float* rf = _rowFactor!.Data, cf = _colFactor!.Data;

            // row ← β2_t·row + (1 − β2_t)·mean over C of (g² + eps1), for each of the matrices·R rows.
            var rowJob = new RowMeansJob { G = grad.Data, Row = row, Cols = cols, Eps1 = eps1, Beta2 = b2, OneMinusBeta2 = oneMinusB2 };
            pool.For(matrices * rows, ref rowJob, minPerThread: Math.Max(1, Elementwise.ChunkSize / cols));

            // col ← β2_t·col + (1 − β2_t)·mean over R of (g² + eps1), in blocks of columns.
            int blocks = (cols + ColumnsJob.Block - 1) / ColumnsJob.Block;
            var colJob = new ColumnsJob { G = grad.Data, Col = col, Rows = rows, Cols = cols, BlocksPerMatrix = blocks, Eps1 = eps1, Beta2 = b2, OneMinusBeta2 = oneMinusB2 };
            pool.For(matrices * blocks, ref colJob, minPerThread: Math.Max(1, Elementwise.ChunkSize / (rows * ColumnsJob.Block)));

            // r = rsqrt(row / mean_R(row)) (per matrix), c = rsqrt(col): HF's _approx_sq_grad.
            for (int b = 0; b < matrices; b++)
            {
                float* rowB = row + (long)b * rows;
                float rowMean = (float)(DeterministicSum.Sum(rowB, rows) / rows);
                for (int r = 0; r < rows; r++) rf[(long)b * rows + r] = 1f / MathF.Sqrt(rowB[r] / rowMean);
            }
            for (int c = 0; c < matrices * cols; c++) cf[c] = 1f / MathF.Sqrt(col[c]);

            // û[q, c] = (r[q]·c[c])·g[q, c]
            var updateJob = new FactoredUpdateJob { G = grad.Data, U = u, RowFactor = rf, ColFactor = cf, Rows = rows, Cols = cols };
            pool.For(matrices * rows, ref updateJob, minPerThread: Math.Max(1, Elementwise.ChunkSize / cols));
        }
        else
        {
            // v ← β2_t·v + (1 − β2_t)·(g² + eps1);  û = rsqrt(v)·g
            var body = new UnfactoredUpdateBody { G = grad.Data, V = state.Buffers[k].Data, U = u, Eps1 = eps1, Beta2 = b2, OneMinusBeta2 = oneMinusB2 };
            Elementwise.Run(pool, n, body);
        }

        // Update clipping: û ← û / max(RMS(û)/d, 1) · lr_t (Math.Max propagates a NaN RMS, like torch.clamp).
        float clip = MathF.Max(Rms(pool, u, n) / (float)ClipThreshold, 1f);
        var apply = new ApplyBody
        {
            P = p.Data,
            U = u,
            M = Beta1 is null ? null : state.Buffers[0].Data,
            Clip = clip,
            LearningRate = lrT,
            Beta1 = (float)(Beta1 ?? 0),
            OneMinusBeta1 = (float)(1 - (Beta1 ?? 0)),
            Decay = decay && WeightDecay != 0,
            DecayAlpha = (float)-WeightDecay * lrT,
        };
        Elementwise.Run(pool, n, apply);
    }

    /// <summary>RMS(x) = ‖x‖₂ / √n as torch computes <c>x.norm(2) / numel**0.5</c> in float.</summary>
    private static unsafe float Rms(WorkerPool pool, float* x, int n) =>
        (float)Math.Sqrt(DeterministicSum.SumOfSquares(pool, x, n)) / (float)Math.Sqrt(n);

    private unsafe struct RowMeansJob : IParallelJob
    {
        public float* G, Row;
        public int Cols;
        public float Eps1, Beta2, OneMinusBeta2;

        public void Execute(int start, int end)
        {
            for (int q = start; q < end; q++)
            {
                float mean = (float)(DeterministicSum.SumOfFloatSquaresPlus(G + (long)q * Cols, Cols, Eps1) / Cols);
                Row[q] = MathF.FusedMultiplyAdd(mean, OneMinusBeta2, Row[q] * Beta2);
            }
        }
    }

    private unsafe struct ColumnsJob : IParallelJob
    {
        public const int Block = 64;
        public float* G, Col;
        public int Rows, Cols, BlocksPerMatrix;
        public float Eps1, Beta2, OneMinusBeta2;

        public void Execute(int start, int end)
        {
            double* acc = stackalloc double[Block];
            for (int j = start; j < end; j++)
            {
                int b = j / BlocksPerMatrix, c0 = j % BlocksPerMatrix * Block;
                int width = Math.Min(Block, Cols - c0);
                new Span<double>(acc, width).Clear();
                float* g = G + (long)b * Rows * Cols + c0;
                for (int r = 0; r < Rows; r++) DeterministicSum.AccumulateFloatSquaresPlus(g + (long)r * Cols, acc, width, Eps1);
                float* col = Col + (long)b * Cols + c0;
                for (int c = 0; c < width; c++)
                {
                    float mean = (float)(acc[c] / Rows);
                    col[c] = MathF.FusedMultiplyAdd(mean, OneMinusBeta2, col[c] * Beta2);
                }
            }
        }
    }

    private unsafe struct FactoredUpdateJob : IParallelJob
    {
        public float* G, U, RowFactor, ColFactor;
        public int Rows, Cols;

        public void Execute(int start, int end)
        {
            for (int q = start; q < end; q++)
            {
                var body = new FactoredRowBody
                {
                    G = G + (long)q * Cols,
                    U = U + (long)q * Cols,
                    ColFactor = ColFactor + (long)(q / Rows) * Cols,
                    RowFactor = RowFactor[q],
                };
                Elementwise.RunSerial(ref body, 0, Cols);
            }
        }
    }

    private unsafe struct FactoredRowBody : IElementwiseBody
    {
        public float* G, U, ColFactor;
        public float RowFactor;

        public void Apply<TL>(int i) where TL : struct, IFloatLanes<TL> =>
            TL.Store(U + i, TL.Multiply(TL.Multiply(TL.Broadcast(RowFactor), TL.Load(ColFactor + i)), TL.Load(G + i)));
    }

    private unsafe struct UnfactoredUpdateBody : IElementwiseBody
    {
        public float* G, V, U;
        public float Eps1, Beta2, OneMinusBeta2;

        public void Apply<TL>(int i) where TL : struct, IFloatLanes<TL>
        {
            var g = TL.Load(G + i);
            var sq = TL.Add(TL.Multiply(g, g), TL.Broadcast(Eps1));
            // exp_avg_sq.mul_(β2_t).add_(g² + eps1, alpha = 1 − β2_t)
            var v = TL.FusedMultiplyAdd(sq, TL.Broadcast(OneMinusBeta2), TL.Multiply(TL.Load(V + i), TL.Broadcast(Beta2)));
            TL.Store(V + i, v);
            TL.Store(U + i, TL.Multiply(TL.Divide(TL.Broadcast(1f), TL.Sqrt(v)), g));
        }
    }

    private unsafe struct ApplyBody : IElementwiseBody
    {
        public float* P, U, M;
        public float Clip, LearningRate, Beta1, OneMinusBeta1, DecayAlpha;
        public bool Decay;

        public void Apply<TL>(int i) where TL : struct, IFloatLanes<TL>
        {
            var u = TL.Multiply(TL.Divide(TL.Load(U + i), TL.Broadcast(Clip)), TL.Broadcast(LearningRate));
            if (M != null)
            {
                // exp_avg.mul_(β1).add_(û, alpha = 1 − β1);  û = exp_avg
                u = TL.FusedMultiplyAdd(u, TL.Broadcast(OneMinusBeta1), TL.Multiply(TL.Load(M + i), TL.Broadcast(Beta1)));
                TL.Store(M + i, u);
            }
            var p = TL.Load(P + i);
            if (Decay) p = TL.FusedMultiplyAdd(p, TL.Broadcast(DecayAlpha), p);   // p.add_(p, alpha = −wd·lr_t)
            TL.Store(P + i, TL.Subtract(p, u));
        }
    }
}
