using System.Text.Json;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Processors;

/// <summary>
/// The fixed-layout post-processors: <c>ByteLevel</c> (only trims offsets in HF; ids unchanged),
/// <c>BertProcessing</c> (<c>[CLS] $A [SEP]</c>) and <c>RobertaProcessing</c> (<c>&lt;s&gt; $A &lt;/s&gt;</c>).
/// </summary>
internal sealed class SimpleProcessor : IPostProcessor
{
    public enum Kind { ByteLevel, Bert, Roberta }

    public Kind Type { get; }
    public (string Token, int Id) Cls { get; }
    public (string Token, int Id) Sep { get; }
    public bool TrimOffsets { get; }
    public bool AddPrefixSpace { get; }
    public bool UseRegex { get; }

    private SimpleProcessor(Kind kind, (string, int) cls, (string, int) sep, bool trimOffsets, bool addPrefixSpace, bool useRegex)
    {
        Type = kind;
        Cls = cls;
        Sep = sep;
        TrimOffsets = trimOffsets;
        AddPrefixSpace = addPrefixSpace;
        UseRegex = useRegex;
    }

    public static SimpleProcessor ByteLevel(bool addPrefixSpace, bool trimOffsets, bool useRegex) =>
        new(Kind.ByteLevel, default, default, trimOffsets, addPrefixSpace, useRegex);
    public static SimpleProcessor Bert((string, int) cls, (string, int) sep) => new(Kind.Bert, cls, sep, false, false, false);
    public static SimpleProcessor Roberta((string, int) cls, (string, int) sep, bool trimOffsets, bool addPrefixSpace) =>
        new(Kind.Roberta, cls, sep, trimOffsets, addPrefixSpace, false);

    public void ProcessSingle(List<int> ids, List<string> tokens, List<bool> special)
    {
        if (Type == Kind.ByteLevel) return;
        ids.Insert(0, Cls.Id); tokens.Insert(0, Cls.Token); special.Insert(0, true);
        ids.Add(Sep.Id); tokens.Add(Sep.Token); special.Add(true);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        switch (Type)
        {
            case Kind.ByteLevel:
                writer.WriteString("type", "ByteLevel");
                ByteLevelPreTokenizer.WriteFields(writer, AddPrefixSpace, TrimOffsets, UseRegex);
                break;
            case Kind.Bert:
                writer.WriteString("type", "BertProcessing");
                WritePair(writer, "sep", Sep);
                WritePair(writer, "cls", Cls);
                break;
            case Kind.Roberta:
                writer.WriteString("type", "RobertaProcessing");
                WritePair(writer, "sep", Sep);
                WritePair(writer, "cls", Cls);
                writer.WriteBoolean("trim_offsets", TrimOffsets);
                writer.WriteBoolean("add_prefix_space", AddPrefixSpace);
                break;
        }
        writer.WriteEndObject();
    }

    private static void WritePair(Utf8JsonWriter writer, string name, (string Token, int Id) value)
    {
        writer.WriteStartArray(name);
        writer.WriteStringValue(value.Token);
        writer.WriteNumberValue(value.Id);
        writer.WriteEndArray();
    }
}
