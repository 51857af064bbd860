using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Models;

/// <summary>
/// SentencePiece's Unigram language model (HF <c>models::unigram</c>): the segmentation maximizing the
/// sum of piece scores (log-probabilities), found by Viterbi over the lattice of vocabulary matches.
/// A code point that no piece covers on its own gets an unk node scored <c>min_score − 10</c>; adjacent
/// unk nodes on the best path are fused into one token (HF's Unigram always fuses). With
/// <c>byte_fallback</c> an unknown span becomes its <c>&lt;0xNN&gt;</c> byte pieces when all exist.
/// </summary>
internal sealed class UnigramModel : ITokenizerModel
{
    private const double UnkPenalty = 10.0;
    private const int CacheCapacity = 10_000;

    private readonly (string Piece, double Score)[] _vocab;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly PieceTrie _trie = new();
    private readonly ConcurrentDictionary<string, string[]> _cache = new();
    private readonly double _minScore;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int? unkId, bool byteFallback)
    {
        if (unkId is int u && (u < 0 || u >= vocab.Count))
            throw new FormatException($"Unigram unk_id {u} is outside the vocabulary (size {vocab.Count})");
        if (unkId != null && vocab.Count == 0) throw new FormatException("Unigram vocabulary is empty but unk_id is set");
        _vocab = vocab.ToArray();
        _tokenToId = new Dictionary<string, int>(_vocab.Length);
        _minScore = double.PositiveInfinity;
        for (int id = 0; id < _vocab.Length; id++)
        {
            var (piece, score) = _vocab[id];
            if (!double.IsFinite(score)) throw new FormatException($"Unigram vocab[{id}] (\"{piece}\"): the score {score} is not a finite number");
            _tokenToId[piece] = id; // a repeated piece maps to its last id, as in HF
            if (score < _minScore) _minScore = score;
        }
        foreach (var (piece, id) in _tokenToId) _trie.Add(piece, id);
        UnkId = unkId;
        ByteFallback = byteFallback;
    }

    public int? UnkId { get; }
    public bool ByteFallback { get; }
    public IReadOnlyList<(string Piece, double Score)> Pieces => _vocab;
    public string? UnkToken => UnkId is int u ? _vocab[u].Piece : null;
    public int VocabSize => _vocab.Length;
    public int MaxId => _vocab.Length - 1;

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;
    public string? IdToToken(int id) => id >= 0 && id < _vocab.Length ? _vocab[id].Piece : null;

    public void Tokenize(string text, List<int> ids, List<string> tokens)
    {
        if (text.Length == 0) return;
        if (!_cache.TryGetValue(text, out string[]? pieces))
        {
            pieces = Segment(text);
            if (_cache.Count < CacheCapacity) _cache.TryAdd(text, pieces);
        }
        foreach (string piece in pieces)
        {
            if (_tokenToId.TryGetValue(piece, out int id))
            {
                ids.Add(id);
                tokens.Add(piece);
                continue;
            }
            if (ByteFallback && TryAddBytes(piece, ids, tokens)) continue;
            if (UnkId is not int unk) throw new UnencodableTextException("Unigram: an unknown token was met but the model has no unk_id");
            ids.Add(unk);
            tokens.Add(piece);
        }
    }

    private bool TryAddBytes(string piece, List<int> ids, List<string> tokens)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(piece);
        var found = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
            if (!_tokenToId.TryGetValue($"<0x{bytes[k]:X2}>", out found[k])) return false;
        for (int k = 0; k < bytes.Length; k++)
        {
            ids.Add(found[k]);
            tokens.Add($"<0x{bytes[k]:X2}>");
        }
        return true;
    }

    /// <summary>
    /// Viterbi: <c>best[e]</c> is the best score of a segmentation of <c>text[0..e)</c> and the node ending there.
    /// A candidate replaces the current best only if strictly better (ties keep the first, shorter-first order).
    /// </summary>
    internal string[] Segment(string text)
    {
        int size = text.Length;
        double unkScore = _minScore - UnkPenalty;
        var bestScore = new double[size + 1];
        var startsAt = new int[size + 1];
        var nodeId = new int[size + 1];
        Array.Fill(startsAt, -1);
        var matches = new List<(int Length, int Id)>();

        for (int start = 0; start < size;)
        {
            double scoreHere = bestScore[start];
            int charLength = Utf16.WidthAt(text, start);
            bool hasSingleNode = false;
            matches.Clear();
            _trie.CommonPrefixSearch(text, start, matches);
            foreach (var (length, id) in matches)
            {
                int end = start + length;
                double candidate = _vocab[id].Score + scoreHere;
                if (startsAt[end] < 0 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    startsAt[end] = start;
                    nodeId[end] = id;
                }
                if (length == charLength) hasSingleNode = true;
            }
            if (!hasSingleNode)
            {
                int end = start + charLength;
                double candidate = unkScore + scoreHere;
                if (startsAt[end] < 0 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    startsAt[end] = start;
                    nodeId[end] = UnkId ?? throw new UnencodableTextException(
                        $"Unigram: \"{text.Substring(start, charLength)}\" is not covered by the vocabulary and the model has no unk_id");
                }
            }
            start += charLength;
        }

        var results = new List<string>();
        int pendingUnkEnd = -1; // end of a run of unk nodes being fused (walking backwards)
        int endAt = size;
        while (endAt > 0)
        {
            int start = startsAt[endAt];
            if (UnkId is int unk && nodeId[endAt] == unk)
            {
                if (pendingUnkEnd < 0) pendingUnkEnd = endAt;
            }
            else
            {
                if (pendingUnkEnd >= 0)
                {
                    results.Add(text.Substring(endAt, pendingUnkEnd - endAt));
                    pendingUnkEnd = -1;
                }
                results.Add(text.Substring(start, endAt - start));
            }
            endAt = start;
        }
        if (pendingUnkEnd >= 0) results.Add(text.Substring(0, pendingUnkEnd));
        results.Reverse();
        return results.ToArray();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Unigram");
        if (UnkId is int u) writer.WriteNumber("unk_id", u); else writer.WriteNull("unk_id");
        writer.WriteStartArray("vocab");
        foreach (var (piece, score) in _vocab)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(piece);
            WriteScore(writer, score);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteBoolean("byte_fallback", ByteFallback);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes a score as serde_json does for integral values ("0.0", not "0"), so re-saved files match HF's;
    /// other values use the shortest round-trip form, as both writers do.
    /// </summary>
    internal static void WriteScore(Utf8JsonWriter writer, double score)
    {
        if (!double.IsFinite(score)) throw new InvalidOperationException($"Unigram score {score} cannot be written as JSON");
        if (score == Math.Floor(score) && Math.Abs(score) < 1e15)
            writer.WriteNumberValue(decimal.Parse(score.ToString("F0", CultureInfo.InvariantCulture) + ".0", CultureInfo.InvariantCulture));
        else
            writer.WriteNumberValue(score);
    }

    /// <summary>A character trie over the pieces; <see cref="CommonPrefixSearch"/> lists the pieces that prefix the text at a position, shortest first.</summary>
    private sealed class PieceTrie
    {
        private readonly Dictionary<long, int> _edges = new();
        private readonly List<int> _terminal = [-1];

        public void Add(string piece, int id)
        {
            if (piece.Length == 0) return;
            int node = 0;
            foreach (char ch in piece)
            {
                long key = ((long)node << 16) | ch;
                if (!_edges.TryGetValue(key, out int child))
                {
                    child = _terminal.Count;
                    _terminal.Add(-1);
                    _edges[key] = child;
                }
                node = child;
            }
            _terminal[node] = id;
        }

        public void CommonPrefixSearch(string text, int start, List<(int Length, int Id)> matches)
        {
            int node = 0;
            for (int i = start; i < text.Length; i++)
            {
                if (!_edges.TryGetValue(((long)node << 16) | text[i], out node)) return;
                if (_terminal[node] >= 0)
                {
                    int length = i + 1 - start;
                    // A match must end on a code point boundary (never between the halves of a pair).
                    if (!(char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])))
                        matches.Add((length, _terminal[node]));
                }
            }
        }
    }
}
