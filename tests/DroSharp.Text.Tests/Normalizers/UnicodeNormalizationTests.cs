using System.Text;
using DroSharp.Text.Normalizers;

namespace DroSharp.Text.Tests.Normalizers;

public class UnicodeNormalizationTests
{
    /// <summary>Random and hand-picked strings (Hangul, reordering, blocked marks, exclusions) against Python's unicodedata.</summary>
    [Fact]
    public void All_four_forms_match_python_unicodedata()
    {
        int n = 0;
        foreach (var e in Fixtures.Lines("unicode-normalization.jsonl"))
        {
            string text = e.GetProperty("text").GetString()!;
            Assert.Equal(e.GetProperty("nfc").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormC));
            Assert.Equal(e.GetProperty("nfd").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormD));
            Assert.Equal(e.GetProperty("nfkc").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormKC));
            Assert.Equal(e.GetProperty("nfkd").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormKD));
            n++;
        }
        Assert.True(n > 300);
    }

    [Theory]
    [InlineData("e\u0301", "\u00e9")]
    [InlineData("\u1100\u1161\u11a8", "\uac01")]
    [InlineData("A\u030a", "\u00c5")]
    [InlineData("\u212b", "\u00c5")] // singleton decomposition never recomposes to itself
    public void Nfc_composes(string input, string expected) =>
        Assert.Equal(expected, UnicodeNormalization.Normalize(input, NormalizationForm.FormC));
}
