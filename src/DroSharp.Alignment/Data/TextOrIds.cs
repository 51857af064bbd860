using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// A prompt or response as the file gave it: text (<c>prompt</c>), token ids used verbatim (<c>prompt_ids</c>),
/// both, in which case the ids are what the model sees and the text is kept for display and grouping — or, in a
/// conversational row, a list of chat messages (<see cref="Messages"/>) that the model's chat template renders
/// together with the rest of the row (<see cref="ITextEncoder.EncodeConversation"/>).
/// </summary>
public sealed class TextOrIds : IEquatable<TextOrIds>
{
    private readonly string? _messagesJson;

    private TextOrIds(string? text, int[]? ids, JsonElement? messages)
    {
        if (text is null && ids is null && messages is null) throw new ArgumentException("need text, ids or messages");
        Text = text;
        Ids = ids;
        Messages = messages;
        if (messages is JsonElement m) _messagesJson = Compact(m);
    }

    /// <summary>The text; null for ids-only values and for messages.</summary>
    public string? Text { get; }

    /// <summary>Token ids from the file (every id ≥ 0); not to be modified.</summary>
    public int[]? Ids { get; }

    /// <summary>A JSON array of <c>{"role", "content", …}</c> message objects (TRL's conversational form), or null.</summary>
    public JsonElement? Messages { get; }

    public bool HasIds => Ids is not null;

    /// <summary>Whether this is a list of chat messages rather than text or ids.</summary>
    public bool IsConversational => Messages is not null;

    public static TextOrIds FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null, null);

    public static TextOrIds FromIds(int[] ids) => new(null, ids ?? throw new ArgumentNullException(nameof(ids)), null);

    public static TextOrIds FromBoth(string text, int[] ids) =>
        new(text ?? throw new ArgumentNullException(nameof(text)), ids ?? throw new ArgumentNullException(nameof(ids)), null);

    /// <summary>Chat messages: a JSON array of message objects (copied, so the caller's document may be disposed).</summary>
    public static TextOrIds FromMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new ArgumentException($"messages must be a JSON array, not {messages.ValueKind}", nameof(messages));
        return new(null, null, messages.Clone());
    }

    /// <summary>The ids from the file, or the encoded text (as a completion when <paramref name="completion"/>, else as a prompt).</summary>
    /// <exception cref="InvalidOperationException">For messages: a conversation is encoded with its whole row (<see cref="ITextEncoder.EncodeConversation"/>).</exception>
    public int[] ToIds(ITextEncoder? encoder, bool completion)
    {
        if (Ids is not null) return Ids;
        if (Messages is not null) throw new InvalidOperationException("chat messages are rendered and encoded with their whole row (ITextEncoder.EncodeConversation), not one field at a time");
        if (encoder is null) throw new InvalidOperationException("the data holds text but no tokenizer was given to encode it");
        return completion ? encoder.EncodeCompletion(Text!) : encoder.EncodePrompt(Text!);
    }

    /// <summary>Identity for grouping by prompt: the ids when present (they are what the model sees), else the text or the messages (compact JSON).</summary>
    internal string Key => Ids is not null ? "ids:" + string.Join(",", Ids) : _messagesJson is not null ? "messages:" + _messagesJson : "text:" + Text;

    public bool Equals(TextOrIds? other) => other is not null && Key == other.Key;

    public override bool Equals(object? obj) => Equals(obj as TextOrIds);

    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    /// <summary>The text, the ids as a list, or the messages as compact JSON.</summary>
    public override string ToString() => Text ?? _messagesJson ?? "[" + string.Join(", ", Ids!) + "]";

    /// <summary>Compact JSON with only the escapes JSON requires (quote, backslash, control characters), so text stays readable.</summary>
    private static string Compact(JsonElement e)
    {
        var sb = new StringBuilder();
        Write(e, sb);
        return sb.ToString();

        static void Write(JsonElement e, StringBuilder sb)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    sb.Append('{');
                    bool first = true;
                    foreach (var p in e.EnumerateObject())
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        WriteString(p.Name, sb);
                        sb.Append(':');
                        Write(p.Value, sb);
                    }
                    sb.Append('}');
                    break;
                case JsonValueKind.Array:
                    sb.Append('[');
                    int i = 0;
                    foreach (var x in e.EnumerateArray())
                    {
                        if (i++ > 0) sb.Append(',');
                        Write(x, sb);
                    }
                    sb.Append(']');
                    break;
                case JsonValueKind.String:
                    WriteString(e.GetString()!, sb);
                    break;
                default:
                    sb.Append(e.GetRawText());
                    break;
            }
        }

        static void WriteString(string s, StringBuilder sb)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                if (c == '"') sb.Append("\\\"");
                else if (c == '\\') sb.Append("\\\\");
                else if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            sb.Append('"');
        }
    }
}
