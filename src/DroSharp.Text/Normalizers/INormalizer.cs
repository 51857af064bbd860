using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>A text-to-text rewrite applied before pre-tokenization (HF <c>normalizers::*</c>).</summary>
internal interface INormalizer
{
    string Normalize(string text);

    /// <summary>Writes the component as it appears in tokenizer.json (<c>{"type": …}</c>).</summary>
    void Write(Utf8JsonWriter writer);
}
