namespace DroSharp.Alignment.Data;

/// <summary>What a training method needs from its data, and so which kinds it accepts and how it converts them.</summary>
public enum DataRequirement
{
    /// <summary>
    /// Single-trajectory feedback (DRO, KTO, RPO): labelled or scored rows. Preference pairs are split into two
    /// labelled rows (chosen = thumbs up, rejected = thumbs down). Prompt/completion data is refused.
    /// </summary>
    Feedback,
    /// <summary>Preference pairs only (DPO).</summary>
    Pairs,
    /// <summary>
    /// Prompt/completion rows (SFT). Labelled and scored rows are kept with their feedback (so a caller can keep
    /// the positives); preference pairs contribute their chosen response only.
    /// </summary>
    Completions,
}
