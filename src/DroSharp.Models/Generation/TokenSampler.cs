using DroSharp.Tensors;

namespace DroSharp.Models.Generation;

/// <summary>Chooses the next token from one row of logits: arg-max, or sampling after temperature, top-k and top-p.</summary>
public sealed class TokenSampler
{
    private readonly GenerationOptions _options;
    private readonly DeterministicRandom _rng;
    private double[] _probs = Array.Empty<double>();
    private int[] _order = Array.Empty<int>();

    public TokenSampler(GenerationOptions options)
    {
        options.Validate();
        _options = options;
        _rng = new DeterministicRandom(options.Seed);
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.Greedy) return ArgMax(logits);
        int v = logits.Length;
        if (_probs.Length < v) { _probs = new double[v]; _order = new int[v]; }
        var probs = _probs.AsSpan(0, v);
        double max = double.NegativeInfinity;
        for (int i = 0; i < v; i++) max = Math.Max(max, logits[i] / (double)_options.Temperature);
        double sum = 0;
        for (int i = 0; i < v; i++) { probs[i] = Math.Exp(logits[i] / (double)_options.Temperature - max); sum += probs[i]; }
        for (int i = 0; i < v; i++) probs[i] /= sum;

        // Candidates in decreasing probability (ties by id) when filtering is on.
        int keep = v;
        var order = _order.AsSpan(0, v);
        bool filter = _options.TopK > 0 || _options.TopP < 1f;
        if (filter)
        {
            for (int i = 0; i < v; i++) order[i] = i;
            var p = _probs;
            order.Sort((a, b) => p[b] != p[a] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
            if (_options.TopK > 0) keep = Math.Min(keep, _options.TopK);
            if (_options.TopP < 1f)
            {
                // HF TopPLogitsWarper: keep the smallest prefix whose mass reaches top_p (at least one token).
                double cum = 0;
                int n = 0;
                while (n < keep) { cum += probs[order[n]]; n++; if (cum >= _options.TopP) break; }
                keep = Math.Max(1, n);
            }
            double mass = 0;
            for (int i = 0; i < keep; i++) mass += probs[order[i]];
            double u = _rng.NextDouble() * mass;
            for (int i = 0; i < keep; i++)
            {
                u -= probs[order[i]];
                if (u < 0) return order[i];
            }
            return order[keep - 1];
        }
        double r = _rng.NextDouble();
        for (int i = 0; i < v; i++)
        {
            r -= probs[i];
            if (r < 0) return i;
        }
        return ArgMax(logits);
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
