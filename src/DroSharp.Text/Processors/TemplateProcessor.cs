using System.Text.Json;

namespace DroSharp.Text.Processors;

/// <summary>One item of a template: the sequence <c>$A</c>/<c>$B</c>, or a special token by name.</summary>
internal readonly record struct TemplatePiece(bool IsSequence, string Id, int TypeId);

/// <summary>A special token of a template: its name and the ids/tokens it expands to.</summary>
internal sealed record TemplateSpecialToken(string Id, IReadOnlyList<int> Ids, IReadOnlyList<string> Tokens);

/// <summary>
/// HF <c>TemplateProcessing</c>: the single template (e.g. T5's <c>$A &lt;/s&gt;</c>) lays out the encoding,
/// special tokens expand to their ids. The pair template is kept for round-tripping.
/// </summary>
internal sealed class TemplateProcessor(
    IReadOnlyList<TemplatePiece> single,
    IReadOnlyList<TemplatePiece> pair,
    IReadOnlyDictionary<string, TemplateSpecialToken> specialTokens) : IPostProcessor
{
    public IReadOnlyList<TemplatePiece> Single { get; } = single;
    public IReadOnlyList<TemplatePiece> Pair { get; } = pair;
    public IReadOnlyDictionary<string, TemplateSpecialToken> SpecialTokens { get; } = specialTokens;

    /// <summary>The template <c>$A &lt;eos&gt;</c> (pair <c>$A &lt;eos&gt; $B &lt;eos&gt;</c>), as T5 uses.</summary>
    public static TemplateProcessor AppendEos(string eos, int eosId)
    {
        var special = new Dictionary<string, TemplateSpecialToken> { [eos] = new(eos, [eosId], [eos]) };
        return new TemplateProcessor(
            [new(true, "A", 0), new(false, eos, 0)],
            [new(true, "A", 0), new(false, eos, 0), new(true, "B", 0), new(false, eos, 0)],
            special);
    }

    /// <summary>The template <c>&lt;bos&gt; $A</c> (pair <c>&lt;bos&gt; $A &lt;bos&gt; $B</c>), as Llama tokenizers use: a decoder-only model's prompt starts with BOS.</summary>
    public static TemplateProcessor PrependBos(string bos, int bosId)
    {
        var special = new Dictionary<string, TemplateSpecialToken> { [bos] = new(bos, [bosId], [bos]) };
        return new TemplateProcessor(
            [new(false, bos, 0), new(true, "A", 0)],
            [new(false, bos, 0), new(true, "A", 0), new(false, bos, 1), new(true, "B", 1)],
            special);
    }

    public void ProcessSingle(List<int> ids, List<string> tokens, List<bool> special)
    {
        var outIds = new List<int>(ids.Count + 4);
        var outTokens = new List<string>(ids.Count + 4);
        var outSpecial = new List<bool>(ids.Count + 4);
        foreach (var piece in Single)
        {
            if (piece.IsSequence)
            {
                if (piece.Id != "A") continue; // $B has no sequence in a single encoding
                outIds.AddRange(ids);
                outTokens.AddRange(tokens);
                outSpecial.AddRange(special);
            }
            else
            {
                if (!SpecialTokens.TryGetValue(piece.Id, out var st))
                    throw new InvalidOperationException($"TemplateProcessing: special token \"{piece.Id}\" is not in special_tokens");
                outIds.AddRange(st.Ids);
                outTokens.AddRange(st.Tokens);
                for (int i = 0; i < st.Ids.Count; i++) outSpecial.Add(true);
            }
        }
        ids.Clear(); ids.AddRange(outIds);
        tokens.Clear(); tokens.AddRange(outTokens);
        special.Clear(); special.AddRange(outSpecial);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "TemplateProcessing");
        WriteTemplate(writer, "single", Single);
        WriteTemplate(writer, "pair", Pair);
        writer.WriteStartObject("special_tokens");
        foreach (var st in SpecialTokens.Values.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            writer.WriteStartObject(st.Id);
            writer.WriteString("id", st.Id);
            writer.WriteStartArray("ids");
            foreach (int id in st.Ids) writer.WriteNumberValue(id);
            writer.WriteEndArray();
            writer.WriteStartArray("tokens");
            foreach (string t in st.Tokens) writer.WriteStringValue(t);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteTemplate(Utf8JsonWriter writer, string name, IReadOnlyList<TemplatePiece> template)
    {
        writer.WriteStartArray(name);
        foreach (var p in template)
        {
            writer.WriteStartObject();
            writer.WriteStartObject(p.IsSequence ? "Sequence" : "SpecialToken");
            writer.WriteString("id", p.Id);
            writer.WriteNumber("type_id", p.TypeId);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
