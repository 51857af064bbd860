namespace DroSharp.Tensors.Optim;

/// <summary>
/// Adam with decoupled weight decay, exactly as PyTorch's <c>torch.optim.AdamW</c>
/// (<c>_single_tensor_adamw</c>, amsgrad off, not maximising), in float32. Per parameter, with
/// t its own update count:
/// <code>
/// p ← p·(1 − lr·wd)                               decoupled decay, before the Adam update
/// m ← lerp(m, g, 1 − β1)                           = m + (1 − β1)(g − m)
/// v ← v·β2 + (1 − β2)·g·g
/// step_size = lr / (1 − β1ᵗ)                        in double
/// denom = sqrt(v) / sqrt(1 − β2ᵗ) + eps              bias corrections in double, rounded to float
/// p ← p − step_size·m / denom
/// </code>
/// i.e. p − lr·m̂/(√v̂ + eps) with m̂, v̂ the bias-corrected moments. State slots
/// <c>exp_avg</c> and <c>exp_avg_sq</c>, the shape of the parameter.
/// </summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] s_slots = ["exp_avg", "exp_avg_sq"];

    /// <param name="weightDecayFilter">Which parameters are decayed (all when null); see <see cref="WeightDecayFilter"/>.</param>
    public AdamW(IReadOnlyList<Tensor> parameters, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0.0, Func<Tensor, bool>? weightDecayFilter = null)
        : base(parameters, weightDecayFilter)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"beta1 {beta1} must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), $"beta2 {beta2} must be in [0, 1)");
        if (!(eps >= 0) || double.IsInfinity(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"eps {eps} must be finite and ≥ 0");
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weight decay {weightDecay} must be finite and ≥ 0");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public override string Kind => "adamw";
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    private protected override ParameterState DescribeState(Tensor parameter) =>
        new(s_slots, [parameter.Shape, parameter.Shape]);

    private protected override unsafe void Update(Tensor p, Tensor grad, ParameterState state, double lr, bool decay)
    {
        double t = state.Step;
        double biasCorrection1 = 1 - Math.Pow(Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(Beta2, t);
        double stepSize = lr / biasCorrection1;
        float lerpWeight = (float)(1 - Beta1);
        var body = new Body
        {
            P = p.Data,
            G = grad.Data,
            M = state.Buffers[0].Data,
            V = state.Buffers[1].Data,
            Decay = decay && WeightDecay != 0,
            DecayFactor = (float)(1 - lr * WeightDecay),
            SmallWeight = Math.Abs(lerpWeight) < 0.5f,
            LerpWeight = lerpWeight,
            Beta2 = (float)Beta2,
            OneMinusBeta2 = (float)(1 - Beta2),
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2),
            Eps = (float)Eps,
            NegativeStepSize = (float)-stepSize,
        };
        Elementwise.Run(Pool, p.Length, body);
    }

    private unsafe struct Body : IElementwiseBody
    {
        public float* P, G, M, V;
        public bool Decay, SmallWeight;
        public float DecayFactor, LerpWeight, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, Eps, NegativeStepSize;

        public void Apply<TL>(int i) where TL : struct, IFloatLanes<TL>
        {
            var p = TL.Load(P + i);
            var g = TL.Load(G + i);
            var m = TL.Load(M + i);
            var v = TL.Load(V + i);
            if (Decay) p = TL.Multiply(p, TL.Broadcast(DecayFactor));

            // torch.lerp: weight < 0.5 ? m + w·(g − m) : g − (g − m)·(1 − w), as fused multiply-adds.
            var diff = TL.Subtract(g, m);
            m = SmallWeight
                ? TL.FusedMultiplyAdd(TL.Broadcast(LerpWeight), diff, m)
                : TL.FusedMultiplyAdd(TL.Broadcast(LerpWeight - 1f), diff, g);

            // exp_avg_sq.mul_(β2).addcmul_(g, g, value = 1 − β2)
            v = TL.Add(TL.Multiply(v, TL.Broadcast(Beta2)), TL.Multiply(TL.Multiply(TL.Broadcast(OneMinusBeta2), g), g));

            // denom = sqrt(v) / sqrt(bc2) + eps;  p.addcdiv_(m, denom, value = −step_size)
            var denom = TL.Add(TL.Divide(TL.Sqrt(v), TL.Broadcast(BiasCorrection2Sqrt)), TL.Broadcast(Eps));
            p = TL.Add(p, TL.Divide(TL.Multiply(TL.Broadcast(NegativeStepSize), m), denom));

            TL.Store(P + i, p);
            TL.Store(M + i, m);
            TL.Store(V + i, v);
        }
    }
}
