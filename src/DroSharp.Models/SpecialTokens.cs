namespace DroSharp.Models;

/// <summary>
/// The token ids and conventions the trainer, batcher and generator need from a model.
/// </summary>
/// <param name="PadId">Padding id (never scored, never attended to).</param>
/// <param name="EosId">The end-of-sequence id a completion ends with.</param>
/// <param name="StopIds">Every id that ends generation (a decoder's <c>generation_config.json</c> may list several).</param>
/// <param name="BosId">Beginning-of-sequence id, or null when the model has none.</param>
/// <param name="AppendEosToCompletion">
/// True when the batcher must append <paramref name="EosId"/> to encoded completion text (TRL's
/// decoder-only convention: the tokenizer does not); false when the tokenizer's post-processor
/// already ends every text with it (T5's <c>&lt;/s&gt;</c>).
/// </param>
public sealed record SpecialTokens(int PadId, int EosId, IReadOnlyList<int> StopIds, int? BosId, bool AppendEosToCompletion)
{
    public bool IsStop(int id)
    {
        foreach (int s in StopIds) if (s == id) return true;
        return false;
    }
}
