using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// T5's feed-forward (HF <c>DenseReluDense</c>): v1.0 <c>wo(relu(wi x))</c>; v1.1/Flan
/// <c>wo(gelu_new(wi_0 x) ⊙ wi_1 x)</c>. No biases.
/// </summary>
public sealed class T5FeedForward
{
    public Tensor? Wi { get; }
    public Tensor? Wi0 { get; }
    public Tensor? Wi1 { get; }
    public Tensor Wo { get; }
    private readonly string _activation;

    public T5FeedForward(ParameterSet ps, string prefix, T5Config cfg)
    {
        _activation = cfg.DenseActFn;
        if (cfg.IsGatedAct)
        {
            Wi0 = ps.Create($"{prefix}.wi_0.weight", new Shape(cfg.DFf, cfg.DModel));
            Wi1 = ps.Create($"{prefix}.wi_1.weight", new Shape(cfg.DFf, cfg.DModel));
        }
        else
        {
            Wi = ps.Create($"{prefix}.wi.weight", new Shape(cfg.DFf, cfg.DModel));
        }
        Wo = ps.Create($"{prefix}.wo.weight", new Shape(cfg.DModel, cfg.DFf));
        if (_activation is not ("relu" or "gelu_new"))
            throw new NotSupportedException($"T5 feed-forward activation '{_activation}' is not supported (relu and gelu_new are)");
    }

    /// <summary>x: [..., d] (layer-normed) → [..., d].</summary>
    public Tensor Forward(Tensor x)
    {
        Tensor h;
        if (Wi0 is not null)
        {
            var gate = Ops.Linear(x, Wi0);
            var lin = Ops.Linear(x, Wi1!);
            h = _activation == "gelu_new" ? Ops.GatedGelu(gate, lin) : Ops.Mul(Ops.Relu(gate), lin);
        }
        else
        {
            var pre = Ops.Linear(x, Wi!);
            h = _activation == "gelu_new" ? Ops.GeluNew(pre) : Ops.Relu(pre);
        }
        return Ops.Linear(h, Wo);
    }
}
