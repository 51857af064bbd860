using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Decoder;

/// <summary>
/// The gated MLP of one layer (<c>model.layers.{i}.mlp</c>): down(act(gate(x)) ⊙ up(x)) with
/// <c>gate_proj</c>, <c>up_proj</c>, <c>down_proj</c> (or Phi-3's fused <c>gate_up_proj</c>, gate first),
/// act = SiLU or tanh-GELU.
/// </summary>
public sealed class DecoderMlp
{
    private readonly bool _silu;
    private readonly int _intermediate;

    public DecoderMlp(ParameterSet ps, string prefix, DecoderConfig c)
    {
        _silu = c.HiddenAct == "silu";
        _intermediate = c.IntermediateSize;
        if (c.FusedProjections)
            GateUpProj = new Linear(ps, $"{prefix}.gate_up_proj", c.HiddenSize, 2 * c.IntermediateSize, c.MlpBias);
        else
        {
            GateProj = new Linear(ps, $"{prefix}.gate_proj", c.HiddenSize, c.IntermediateSize, c.MlpBias);
            UpProj = new Linear(ps, $"{prefix}.up_proj", c.HiddenSize, c.IntermediateSize, c.MlpBias);
        }
        DownProj = new Linear(ps, $"{prefix}.down_proj", c.IntermediateSize, c.HiddenSize, c.MlpBias);
    }

    public Linear? GateProj { get; }
    public Linear? UpProj { get; }
    public Linear? GateUpProj { get; }
    public Linear DownProj { get; }

    /// <summary>x: [..., hidden] → [..., hidden].</summary>
    public Tensor Forward(Tensor x)
    {
        Tensor gate, up;
        if (GateUpProj is not null)
        {
            var gu = GateUpProj.Forward(x);
            gate = Ops.SliceLastAxis(gu, 0, _intermediate);
            up = Ops.SliceLastAxis(gu, _intermediate, _intermediate);
        }
        else
        {
            gate = GateProj!.Forward(x);
            up = UpProj!.Forward(x);
        }
        return DownProj.Forward(_silu ? Ops.SiluGated(gate, up) : Ops.GatedGelu(gate, up));
    }
}
