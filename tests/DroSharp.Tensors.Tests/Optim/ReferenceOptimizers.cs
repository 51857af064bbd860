namespace DroSharp.Tensors.Tests.Optim;

/// <summary>
/// Textbook AdamW (PyTorch) and Adafactor (Hugging Face) in double, one array per parameter,
/// written straight from the formulas, to check the float32 kernels against.
/// </summary>
internal sealed class ReferenceAdamW(double[][] parameters, double beta1, double beta2, double eps, double weightDecay, bool[]? decays = null)
{
    public readonly double[][] P = parameters;
    public readonly double[][] M = parameters.Select(p => new double[p.Length]).ToArray();
    public readonly double[][] V = parameters.Select(p => new double[p.Length]).ToArray();
    public readonly long[] Steps = new long[parameters.Length];

    /// <summary>grads[i] null: parameter i has no gradient this step and is skipped.</summary>
    public void Step(double lr, double[]?[] grads)
    {
        for (int i = 0; i < P.Length; i++)
        {
            if (grads[i] is not { } g) continue;
            long t = ++Steps[i];
            double wd = decays is null || decays[i] ? weightDecay : 0;
            double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
            for (int j = 0; j < g.Length; j++)
            {
                P[i][j] *= 1 - lr * wd;
                M[i][j] = beta1 * M[i][j] + (1 - beta1) * g[j];
                V[i][j] = beta2 * V[i][j] + (1 - beta2) * g[j] * g[j];
                double mHat = M[i][j] / bc1, vHat = V[i][j] / bc2;
                P[i][j] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
    }
}

internal sealed class ReferenceAdafactor
{
    public readonly double[][] P;
    public readonly int[][] Shapes;
    public readonly double[]?[] M, V, Row, Col;
    public readonly long[] Steps;
    private readonly double _eps1, _eps2, _clip, _decayRate, _weightDecay;
    private readonly double? _beta1;
    private readonly bool _scaleParameter;

    public ReferenceAdafactor(double[][] parameters, int[][] shapes, double eps1 = 1e-30, double eps2 = 1e-3, double clip = 1.0,
        double decayRate = -0.8, double? beta1 = null, double weightDecay = 0, bool scaleParameter = true)
    {
        P = parameters;
        Shapes = shapes;
        _eps1 = eps1; _eps2 = eps2; _clip = clip; _decayRate = decayRate; _beta1 = beta1; _weightDecay = weightDecay; _scaleParameter = scaleParameter;
        int n = parameters.Length;
        M = new double[]?[n]; V = new double[]?[n]; Row = new double[]?[n]; Col = new double[]?[n];
        Steps = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (beta1 is not null) M[i] = new double[P[i].Length];
            if (shapes[i].Length >= 2)
            {
                int cols = shapes[i][^1], rows = shapes[i][^2], mats = P[i].Length / (rows * cols);
                Row[i] = new double[mats * rows];
                Col[i] = new double[mats * cols];
            }
            else V[i] = new double[P[i].Length];
        }
    }

    private static double Rms(double[] x) => Math.Sqrt(x.Sum(v => v * v)) / Math.Sqrt(x.Length);

    public void Step(double lr, double[]?[] grads)
    {
        for (int i = 0; i < P.Length; i++)
        {
            if (grads[i] is not { } g) continue;
            var p = P[i];
            long t = ++Steps[i];
            double lrT = _scaleParameter ? lr * Math.Max(_eps2, Rms(p)) : lr;
            double b2 = 1 - Math.Pow(t, _decayRate);
            var u = new double[g.Length];
            if (Row[i] is { } row && Col[i] is { } col)
            {
                int cols = Shapes[i][^1], rows = Shapes[i][^2], mats = p.Length / (rows * cols);
                for (int b = 0; b < mats; b++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        double s = 0;
                        for (int c = 0; c < cols; c++) { double x = g[(b * rows + r) * cols + c]; s += x * x + _eps1; }
                        row[b * rows + r] = b2 * row[b * rows + r] + (1 - b2) * s / cols;
                    }
                    for (int c = 0; c < cols; c++)
                    {
                        double s = 0;
                        for (int r = 0; r < rows; r++) { double x = g[(b * rows + r) * cols + c]; s += x * x + _eps1; }
                        col[b * cols + c] = b2 * col[b * cols + c] + (1 - b2) * s / rows;
                    }
                    double rowMean = 0;
                    for (int r = 0; r < rows; r++) rowMean += row[b * rows + r];
                    rowMean /= rows;
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < cols; c++)
                        {
                            int j = (b * rows + r) * cols + c;
                            u[j] = g[j] / Math.Sqrt(row[b * rows + r] / rowMean) / Math.Sqrt(col[b * cols + c]);
                        }
                }
            }
            else
            {
                var v = V[i]!;
                for (int j = 0; j < g.Length; j++)
                {
                    v[j] = b2 * v[j] + (1 - b2) * (g[j] * g[j] + _eps1);
                    u[j] = g[j] / Math.Sqrt(v[j]);
                }
            }
            double d = Math.Max(Rms(u) / _clip, 1.0);
            for (int j = 0; j < u.Length; j++) u[j] = u[j] / d * lrT;
            if (M[i] is { } m)
                for (int j = 0; j < u.Length; j++) u[j] = m[j] = _beta1!.Value * m[j] + (1 - _beta1.Value) * u[j];
            for (int j = 0; j < p.Length; j++)
            {
                p[j] -= _weightDecay * lrT * p[j];
                p[j] -= u[j];
            }
        }
    }
}
