namespace DroSharp.Models.Checkpoints;

/// <summary>What a <see cref="StateDictLoader.Load"/> did, key by key; nothing is dropped unreported.</summary>
public sealed class StateDictLoadReport
{
    internal StateDictLoadReport(IReadOnlyList<(string Parameter, string Source)> loaded, IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected, IReadOnlyList<(string Key, string Reason)> ignored)
    {
        Loaded = loaded;
        Missing = missing;
        Unexpected = unexpected;
        Ignored = ignored;
    }

    /// <summary>Each loaded parameter and the checkpoint tensor it came from (another name for a tied alias).</summary>
    public IReadOnlyList<(string Parameter, string Source)> Loaded { get; }

    /// <summary>Model parameters the checkpoint lacks (left unchanged; only with <see cref="StateDictLoadOptions.AllowMissing"/>).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checkpoint tensors no parameter wanted (only with <see cref="StateDictLoadOptions.AllowUnexpected"/>).</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Checkpoint tensors skipped on purpose: tied aliases and keys transformers ignores.</summary>
    public IReadOnlyList<(string Key, string Reason)> Ignored { get; }
}
