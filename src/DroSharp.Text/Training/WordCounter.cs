using DroSharp.Text.Normalizers;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Training;

/// <summary>Counts the pre-tokens of training texts after normalization, as HF's trainers are fed (no added-token extraction).</summary>
internal static class WordCounter
{
    public static Dictionary<string, long> Count(IEnumerable<string> texts, INormalizer? normalizer, IPreTokenizer preTokenizer)
    {
        var counts = new Dictionary<string, long>();
        var pieces = new List<PreToken>();
        foreach (string text in texts)
        {
            string normalized = normalizer?.Normalize(text) ?? text;
            if (normalized.Length == 0) continue;
            pieces.Clear();
            preTokenizer.PreTokenize(new PreToken(normalized, true), pieces);
            foreach (var p in pieces)
            {
                if (p.Text.Length == 0) continue;
                counts[p.Text] = counts.GetValueOrDefault(p.Text) + 1;
            }
        }
        return counts;
    }
}
