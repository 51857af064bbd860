namespace DroSharp.Models.Checkpoints;

/// <summary>What <see cref="StateDictLoader"/> tolerates. By default every model parameter must be
/// found and every checkpoint tensor must be used (or be a known tied alias / ignorable key).</summary>
public sealed class StateDictLoadOptions
{
    /// <summary>Leave parameters the checkpoint lacks as they are (e.g. a fresh value head).</summary>
    public bool AllowMissing { get; init; }

    /// <summary>Skip checkpoint tensors the model has no parameter for (e.g. a policy's decoder when loading a value encoder).</summary>
    public bool AllowUnexpected { get; init; }

    /// <summary>Checkpoint keys the model family ignores on purpose, with why (e.g. a tied <c>lm_head.weight</c>).</summary>
    public IReadOnlyDictionary<string, string> IgnoredKeys { get; init; } = new Dictionary<string, string>();
}
