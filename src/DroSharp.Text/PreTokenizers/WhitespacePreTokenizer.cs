using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>
/// Keeps the runs matched by <c>\w+|[^\w\s]+</c> and drops whitespace (HF <c>Whitespace</c>), with
/// Oniguruma's <c>\w</c> (<see cref="CharClasses.IsWord"/>), so a ZWJ inside a word stays in it.
/// </summary>
internal sealed class WhitespacePreTokenizer : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text;
        int runStart = -1, runKind = 0; // 1 = word run, 2 = other non-space run
        for (int i = 0; i <= text.Length;)
        {
            int kind = 0, width = 1;
            if (i < text.Length)
            {
                int cp = Utf16.CodePointAt(text, i, out width);
                kind = CharClasses.IsWord(cp) ? 1 : CharClasses.IsWhitespace(cp) ? 0 : 2;
            }
            if (kind != runKind)
            {
                if (runKind != 0) output.Add(new PreToken(text.Substring(runStart, i - runStart), piece.AtStart && runStart == 0));
                runStart = i;
                runKind = kind;
            }
            if (i == text.Length) break;
            i += width;
        }
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Whitespace");
        writer.WriteEndObject();
    }
}
