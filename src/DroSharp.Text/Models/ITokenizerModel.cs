using System.Text.Json;

namespace DroSharp.Text.Models;

/// <summary>Maps one pre-token to vocabulary ids (HF <c>models::*</c>).</summary>
internal interface ITokenizerModel
{
    /// <summary>Appends the ids and token strings of <paramref name="text"/>.</summary>
    void Tokenize(string text, List<int> ids, List<string> tokens);

    int? TokenToId(string token);
    string? IdToToken(int id);

    /// <summary>Number of entries in the model's vocabulary.</summary>
    int VocabSize { get; }

    /// <summary>Largest id in the vocabulary, or -1 when it is empty.</summary>
    int MaxId { get; }

    /// <summary>The token that stands for unknown input, when the model has one.</summary>
    string? UnkToken { get; }

    void Write(Utf8JsonWriter writer);
}
