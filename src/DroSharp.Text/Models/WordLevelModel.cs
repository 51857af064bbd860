using System.Text.Json;

namespace DroSharp.Text.Models;

/// <summary>Whole pre-tokens looked up in a vocabulary, else the unk token (HF <c>WordLevel</c>).</summary>
internal sealed class WordLevelModel : ITokenizerModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToToken = new();

    public WordLevelModel(Dictionary<string, int> vocab, string unkToken)
    {
        _vocab = vocab;
        UnkToken = unkToken;
        foreach (var (token, id) in vocab)
        {
            if (!_idToToken.TryAdd(id, token))
                throw new FormatException($"WordLevel vocab gives id {id} to both \"{_idToToken[id]}\" and \"{token}\"");
        }
        MaxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
    }

    public string? UnkToken { get; }
    public int VocabSize => _vocab.Count;
    public int MaxId { get; }
    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    public void Tokenize(string text, List<int> ids, List<string> tokens)
    {
        if (_vocab.TryGetValue(text, out int id))
        {
            ids.Add(id);
            tokens.Add(text);
            return;
        }
        if (UnkToken != null && _vocab.TryGetValue(UnkToken, out int unk))
        {
            ids.Add(unk);
            tokens.Add(UnkToken);
            return;
        }
        throw new UnencodableTextException($"WordLevel: \"{text}\" is not in the vocabulary and the unk token \"{UnkToken}\" is missing from it");
    }

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;
    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "WordLevel");
        writer.WriteStartObject("vocab");
        foreach (var (token, id) in _vocab.OrderBy(kv => kv.Value)) writer.WriteNumber(token, id);
        writer.WriteEndObject();
        writer.WriteString("unk_token", UnkToken);
        writer.WriteEndObject();
    }
}
