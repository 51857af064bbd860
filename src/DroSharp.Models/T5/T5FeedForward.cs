using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.T5;

/// <summary>
/// T5's feed-forward (HF <c>DenseReluDense</c>): v1.0 <c>wo(relu(wi x))</c>; v1.1/Flan
/// <c>wo(gelu_new(wi_0 x) ⊙ wi_1 x)</c>. No biases.
/// </summary>
public sealed class T5FeedForward
{
    public Linear? Wi { get; }
    public Linear? Wi0 { get; }
    public Linear? Wi1 { get; }
    public Linear Wo { get; }
    private readonly string _activation;

    public T5FeedForward(ParameterSet ps, string prefix, T5Config cfg)
    {
        _activation = cfg.DenseActFn;
        if (_activation is not ("relu" or "gelu_new"))
            throw new NotSupportedException($"T5 feed-forward activation '{_activation}' is not supported (relu and gelu_new are)");
        if (cfg.IsGatedAct)
        {
            Wi0 = new Linear(ps, $"{prefix}.wi_0", cfg.DModel, cfg.DFf);
            Wi1 = new Linear(ps, $"{prefix}.wi_1", cfg.DModel, cfg.DFf);
        }
        else
        {
            Wi = new Linear(ps, $"{prefix}.wi", cfg.DModel, cfg.DFf);
        }
        Wo = new Linear(ps, $"{prefix}.wo", cfg.DFf, cfg.DModel);
    }

    /// <summary>x: [..., d] (layer-normed) → [..., d].</summary>
    public Tensor Forward(Tensor x)
    {
        Tensor h;
        if (Wi0 is not null)
        {
            var gate = Wi0.Forward(x);
            var lin = Wi1!.Forward(x);
            h = _activation == "gelu_new" ? Ops.GatedGelu(gate, lin) : Ops.Mul(Ops.Relu(gate), lin);
        }
        else
        {
            var pre = Wi!.Forward(x);
            h = _activation == "gelu_new" ? Ops.GeluNew(pre) : Ops.Relu(pre);
        }
        return Wo.Forward(h);
    }
}
