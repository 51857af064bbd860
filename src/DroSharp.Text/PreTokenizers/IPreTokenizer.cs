using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>Splits normalized text into pre-tokens, possibly rewriting them (HF <c>pre_tokenizers::*</c>).</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the pre-tokens of <paramref name="piece"/> to <paramref name="output"/>; empty pieces are never appended.</summary>
    void PreTokenize(PreToken piece, List<PreToken> output);

    void Write(Utf8JsonWriter writer);
}
