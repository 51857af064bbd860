using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>NFC, NFD, NFKC or NFKD (HF <c>normalizers::unicode</c>).</summary>
internal sealed class UnicodeNormalizer(NormalizationForm form) : INormalizer
{
    public NormalizationForm Form { get; } = form;

    public string Normalize(string text) => UnicodeNormalization.Normalize(text, Form);

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Form switch
        {
            NormalizationForm.FormC => "NFC",
            NormalizationForm.FormD => "NFD",
            NormalizationForm.FormKC => "NFKC",
            _ => "NFKD",
        });
        writer.WriteEndObject();
    }
}
