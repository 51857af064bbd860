using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>
/// SentencePiece's compiled normalization rules (HF <c>Precompiled</c>, crate <c>spm_precompiled</c>).
/// Blob: <c>u32 LE trie_size</c> · <c>trie_size/4</c> u32 units of a darts-clone double array keyed by UTF-8
/// bytes · NUL-separated UTF-8 replacement strings addressed by the trie's leaf values.
/// </summary>
/// <remarks>
/// Applied as HF does (not as sentencepiece's longest-match scan): per extended grapheme cluster, if the
/// cluster is shorter than 6 UTF-8 bytes and <em>some prefix</em> of it has a rule, the shortest such rule's
/// replacement stands for the <em>whole</em> cluster (so "¹\uFE0F" → "1"); otherwise each code point of the
/// cluster is looked up on its own.
/// </remarks>
internal sealed class PrecompiledNormalizer : INormalizer
{
    private readonly byte[] _charsmap;
    private readonly uint[] _units;
    private readonly byte[] _replacements;
    private readonly Dictionary<int, string> _replacementAt = new();
    // Rule for each single BMP character, filled lazily: null = not looked up yet, NoRule = none.
    private readonly string?[] _singleChar = new string?[65536];
    private static readonly string NoRule = new('\0', 1);

    public PrecompiledNormalizer(byte[] charsmap)
    {
        _charsmap = charsmap;
        if (charsmap.Length == 0)
        {
            _units = [];
            _replacements = [];
            return;
        }
        if (charsmap.Length < 4) throw new FormatException("precompiled_charsmap is shorter than its 4-byte header");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieSize % 4 != 0 || 4 + (long)trieSize > charsmap.Length)
            throw new FormatException($"precompiled_charsmap: trie size {trieSize} does not fit the {charsmap.Length}-byte blob");
        _units = new uint[trieSize / 4];
        for (int i = 0; i < _units.Length; i++)
            _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + 4 * i));
        _replacements = charsmap.AsSpan(4 + (int)trieSize).ToArray();
    }

    public string Normalize(string text)
    {
        if (_units.Length == 0 || text.Length == 0) return text;
        StringBuilder? sb = null;
        Span<byte> utf8 = stackalloc byte[8];
        int i = 0;
        while (i < text.Length)
        {
            int len = GraphemeLength(text, i);
            string? rule = null;
            if (len == 1)
            {
                rule = SingleCharRule(text[i]);
            }
            else
            {
                var cluster = text.AsSpan(i, len);
                if (Encoding.UTF8.GetByteCount(cluster) < 6)
                {
                    int n = Encoding.UTF8.GetBytes(cluster, utf8);
                    rule = Lookup(utf8[..n]);
                }
                if (rule == null)
                {
                    // Each code point on its own.
                    for (int j = i; j < i + len;)
                    {
                        int w = Utf16.WidthAt(text, j);
                        string? r = w == 1 ? SingleCharRule(text[j]) : LookupChars(text.AsSpan(j, w), utf8);
                        if (r != null)
                        {
                            sb ??= new StringBuilder(text, 0, j, text.Length + 16);
                            sb.Append(r);
                        }
                        else
                        {
                            sb?.Append(text, j, w);
                        }
                        j += w;
                    }
                    i += len;
                    continue;
                }
            }
            if (rule != null)
            {
                sb ??= new StringBuilder(text, 0, i, text.Length + 16);
                sb.Append(rule);
            }
            else
            {
                sb?.Append(text, i, len);
            }
            i += len;
        }
        return sb?.ToString() ?? text;
    }

    private static int GraphemeLength(string text, int i)
    {
        char c = text[i];
        if (c < 0x80 && c != '\r')
        {
            if (i + 1 == text.Length || text[i + 1] < 0x80) return 1;
        }
        return StringInfo.GetNextTextElementLength(text.AsSpan(i));
    }

    private string? SingleCharRule(char c)
    {
        string? cached = _singleChar[c];
        if (cached == null)
        {
            Span<byte> utf8 = stackalloc byte[4];
            cached = LookupChars([c], utf8) ?? NoRule;
            _singleChar[c] = cached;
        }
        return ReferenceEquals(cached, NoRule) ? null : cached;
    }

    private string? LookupChars(ReadOnlySpan<char> chars, Span<byte> utf8)
    {
        int n = Encoding.UTF8.GetBytes(chars, utf8);
        return Lookup(utf8[..n]);
    }

    /// <summary>The replacement of the shortest key that is a prefix of <paramref name="key"/>, or null.</summary>
    internal string? Lookup(ReadOnlySpan<byte> key)
    {
        int value = ShortestPrefixValue(key);
        return value < 0 ? null : ReplacementAt(value);
    }

    // darts-clone unit layout: bit 8 = has leaf, low 31 bits = value (of a leaf unit),
    // label = bits 0–7 plus bit 31, offset = (unit >> 10) << ((unit & (1 << 9)) >> 6).
    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    private static int Value(uint unit) => (int)(unit & 0x7FFFFFFFu);
    private static uint Label(uint unit) => unit & 0x800000FFu;
    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    private int ShortestPrefixValue(ReadOnlySpan<byte> key)
    {
        uint pos = 0;
        uint unit = _units[0];
        pos ^= Offset(unit);
        foreach (byte b in key)
        {
            if (b == 0) break;
            pos ^= b;
            if (pos >= (uint)_units.Length) return -1;
            unit = _units[pos];
            if (Label(unit) != b) return -1;
            pos ^= Offset(unit);
            if (HasLeaf(unit))
                return pos < (uint)_units.Length ? Value(_units[pos]) : -1;
        }
        return -1;
    }

    private string ReplacementAt(int index)
    {
        lock (_replacementAt)
        {
            if (_replacementAt.TryGetValue(index, out var s)) return s;
            int end = index;
            while (end < _replacements.Length && _replacements[end] != 0) end++;
            s = index < _replacements.Length ? Encoding.UTF8.GetString(_replacements, index, end - index) : "";
            _replacementAt[index] = s;
            return s;
        }
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Precompiled");
        writer.WriteString("precompiled_charsmap", Convert.ToBase64String(_charsmap));
        writer.WriteEndObject();
    }
}
