using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Models;

/// <summary>
/// Byte-pair encoding (HF <c>models::bpe</c>). A pre-token starts as one symbol per code point
/// (with <c>continuing_subword_prefix</c> on all but the first and <c>end_of_word_suffix</c> on the last);
/// then the adjacent pair with the lowest merge rank is merged, leftmost first, until no pair has a merge.
/// Characters outside the vocabulary become <c>&lt;0xNN&gt;</c> byte tokens (<c>byte_fallback</c>), else the
/// unk token (consecutive ones fused with <c>fuse_unk</c>), else they are dropped, as HF does.
/// With <c>ignore_merges</c> (Llama 3) a pre-token that is itself in the vocabulary is emitted whole.
/// </summary>
internal sealed class BpeModel : ITokenizerModel
{
    private const int CacheCapacity = 10_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToToken;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    // Id of each single BMP character as a token: 0 = not looked up, -1 = absent, else id + 1.
    private readonly int[] _charIds = new int[65536];

    public BpeModel(
        Dictionary<string, int> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken = null,
        string? continuingSubwordPrefix = null,
        string? endOfWordSuffix = null,
        bool fuseUnk = false,
        bool byteFallback = false,
        bool ignoreMerges = false,
        double? dropout = null)
    {
        _vocab = vocab;
        _idToToken = new Dictionary<int, string>(vocab.Count);
        foreach (var (token, id) in vocab)
        {
            if (!_idToToken.TryAdd(id, token))
                throw new FormatException($"BPE vocab gives id {id} to both \"{_idToToken[id]}\" and \"{token}\"");
        }
        MaxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
        UnkToken = unkToken;
        ContinuingSubwordPrefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        EndOfWordSuffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        RawContinuingSubwordPrefix = continuingSubwordPrefix;
        RawEndOfWordSuffix = endOfWordSuffix;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        Dropout = dropout;
        Merges = merges;

        int prefixLength = ContinuingSubwordPrefix?.Length ?? 0;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (a, b) = merges[rank];
            if (!vocab.TryGetValue(a, out int ida)) throw new FormatException($"BPE merge {rank} (\"{a}\" \"{b}\"): \"{a}\" is not in the vocabulary");
            if (!vocab.TryGetValue(b, out int idb)) throw new FormatException($"BPE merge {rank} (\"{a}\" \"{b}\"): \"{b}\" is not in the vocabulary");
            string merged = a + (prefixLength > 0 && b.Length >= prefixLength ? b[prefixLength..] : b);
            if (!vocab.TryGetValue(merged, out int idm)) throw new FormatException($"BPE merge {rank} (\"{a}\" \"{b}\"): \"{merged}\" is not in the vocabulary");
            _merges.TryAdd(Key(ida, idb), (rank, idm));
        }
    }

    public string? UnkToken { get; }
    public string? ContinuingSubwordPrefix { get; }
    public string? EndOfWordSuffix { get; }
    // As read, to write back what was read ("" and null are both "none" for encoding).
    private string? RawContinuingSubwordPrefix { get; }
    private string? RawEndOfWordSuffix { get; }
    public bool FuseUnk { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }
    /// <summary>Kept for round-tripping only: encoding here is always deterministic (no BPE-dropout).</summary>
    public double? Dropout { get; }
    public IReadOnlyList<(string Left, string Right)> Merges { get; }
    public IReadOnlyDictionary<string, int> Vocab => _vocab;
    public int VocabSize => _vocab.Count;
    public int MaxId { get; }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;
    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);

    public void Tokenize(string text, List<int> ids, List<string> tokens)
    {
        if (text.Length == 0) return;
        if (IgnoreMerges && _vocab.TryGetValue(text, out int whole))
        {
            ids.Add(whole);
            tokens.Add(text);
            return;
        }
        if (!_cache.TryGetValue(text, out int[]? word))
        {
            word = MergeWord(text);
            if (_cache.Count < CacheCapacity) _cache.TryAdd(text, word);
        }
        foreach (int id in word)
        {
            ids.Add(id);
            tokens.Add(_idToToken[id]);
        }
    }

    private int CharId(char c)
    {
        int v = _charIds[c];
        if (v == 0)
        {
            v = _vocab.TryGetValue(c.ToString(), out int id) ? id + 1 : -1;
            _charIds[c] = v;
        }
        return v > 0 ? v - 1 : -1;
    }

    /// <summary>Initial symbols of <paramref name="w"/>, then all merges applied.</summary>
    internal int[] MergeWord(string w)
    {
        var symbols = new List<int>(w.Length);
        var lengths = new List<int>(w.Length);
        int unkId = -1, unkLength = 0; // pending unknown run
        bool plain = ContinuingSubwordPrefix == null && EndOfWordSuffix == null;
        for (int i = 0; i < w.Length;)
        {
            int width = Utf16.WidthAt(w, i);
            bool isFirst = i == 0, isLast = i + width == w.Length;
            int id;
            string? s = null;
            if (plain && width == 1)
            {
                id = CharId(w[i]);
            }
            else
            {
                s = w.Substring(i, width);
                if (!isFirst && ContinuingSubwordPrefix != null) s = ContinuingSubwordPrefix + s;
                if (isLast && EndOfWordSuffix != null) s += EndOfWordSuffix;
                id = _vocab.TryGetValue(s, out int found) ? found : -1;
            }
            if (id >= 0)
            {
                if (unkId >= 0)
                {
                    symbols.Add(unkId); lengths.Add(unkLength);
                    unkId = -1;
                }
                symbols.Add(id); lengths.Add(width);
            }
            else
            {
                s ??= w.Substring(i, width);
                if (ByteFallback && TryAddBytes(s, symbols, lengths))
                {
                    i += width;
                    continue;
                }
                if (UnkToken != null)
                {
                    if (!_vocab.TryGetValue(UnkToken, out int unk))
                        throw new UnencodableTextException($"BPE: the unk token \"{UnkToken}\" is not in the vocabulary");
                    if (unkId >= 0 && FuseUnk)
                    {
                        unkLength += width;
                    }
                    else
                    {
                        if (unkId >= 0) { symbols.Add(unkId); lengths.Add(unkLength); }
                        unkId = unk;
                        unkLength = width;
                    }
                }
            }
            i += width;
        }
        if (unkId >= 0) { symbols.Add(unkId); lengths.Add(unkLength); }
        return MergeAll(symbols, lengths);
    }

    private bool TryAddBytes(string s, List<int> symbols, List<int> lengths)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        var found = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            if (!_vocab.TryGetValue($"<0x{bytes[k]:X2}>", out found[k])) return false;
        }
        foreach (int id in found) { symbols.Add(id); lengths.Add(1); }
        return true;
    }

    /// <summary>
    /// Repeatedly merges the pair with the lowest rank (ties: leftmost), via a priority queue of
    /// candidate merges keyed (rank, position); stale entries are skipped when popped.
    /// </summary>
    private int[] MergeAll(List<int> symbolList, List<int> lengthList)
    {
        int n = symbolList.Count;
        if (n <= 1 || _merges.Count == 0) return symbolList.ToArray();
        var c = symbolList.ToArray();
        var len = lengthList.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }

        var queue = new PriorityQueue<(int Pos, int NewId), long>();
        for (int i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(Key(c[i], c[i + 1]), out var m))
                queue.Enqueue((i, m.NewId), ((long)m.Rank << 32) | (uint)i);
        }
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (len[pos] == 0 || next[pos] == -1) continue;
            int right = next[pos];
            if (!_merges.TryGetValue(Key(c[pos], c[right]), out var current) || current.NewId != top.NewId) continue;

            c[pos] = top.NewId;
            len[pos] += len[right];
            next[pos] = next[right];
            len[right] = 0;
            if (next[pos] >= 0) prev[next[pos]] = pos;

            if (prev[pos] >= 0 && _merges.TryGetValue(Key(c[prev[pos]], c[pos]), out var left))
                queue.Enqueue((prev[pos], left.NewId), ((long)left.Rank << 32) | (uint)prev[pos]);
            if (next[pos] >= 0 && _merges.TryGetValue(Key(c[pos], c[next[pos]]), out var after))
                queue.Enqueue((pos, after.NewId), ((long)after.Rank << 32) | (uint)pos);
        }
        var result = new List<int>(n);
        for (int i = 0; i < n; i++) if (len[i] != 0) result.Add(c[i]);
        return result.ToArray();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "BPE");
        if (Dropout is double d) writer.WriteNumber("dropout", d); else writer.WriteNull("dropout");
        writer.WriteString("unk_token", UnkToken);
        writer.WriteString("continuing_subword_prefix", RawContinuingSubwordPrefix);
        writer.WriteString("end_of_word_suffix", RawEndOfWordSuffix);
        writer.WriteBoolean("fuse_unk", FuseUnk);
        writer.WriteBoolean("byte_fallback", ByteFallback);
        writer.WriteBoolean("ignore_merges", IgnoreMerges);
        writer.WriteStartObject("vocab");
        foreach (var (token, id) in _vocab.OrderBy(kv => kv.Value)) writer.WriteNumber(token, id);
        writer.WriteEndObject();
        writer.WriteStartArray("merges");
        foreach (var (a, b) in Merges)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(a);
            writer.WriteStringValue(b);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
