using System.Text.Json;
using System.Text.Json.Nodes;

namespace DroSharp.Text.Templates;

/// <summary>
/// One chat message as a chat template sees it: a mapping with <c>role</c>, <c>content</c> and any other keys
/// (<c>tool_calls</c>, <c>name</c>, <c>tool_call_id</c>, <c>reasoning_content</c>, …), in their original order.
/// Field values may be null, bool, numbers, strings, lists, string-keyed dictionaries,
/// <see cref="JsonElement"/> or <see cref="JsonNode"/>; they reach the template as Python values would.
/// </summary>
public sealed class ChatMessage
{
    private readonly List<KeyValuePair<string, object?>> _fields;

    /// <summary>A message with just <c>role</c> and <c>content</c>.</summary>
    public ChatMessage(string role, object? content)
    {
        ArgumentNullException.ThrowIfNull(role);
        _fields = [new("role", role), new("content", content)];
        Role = role;
    }

    /// <summary>A message from its fields in order; one of them must be a string <c>role</c>.</summary>
    public ChatMessage(IEnumerable<KeyValuePair<string, object?>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        _fields = fields.ToList();
        var role = _fields.FirstOrDefault(f => f.Key == "role").Value;
        Role = role switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw new ArgumentException("a chat message needs a string \"role\""),
        };
    }

    public string Role { get; }

    /// <summary>The fields in order (values as given: CLR values or JSON).</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Fields => _fields;

    /// <summary>The <c>content</c> field (null when absent or JSON null).</summary>
    public object? Content
    {
        get
        {
            var v = _fields.FirstOrDefault(f => f.Key == "content").Value;
            return v is JsonElement { ValueKind: JsonValueKind.Null } ? null : v;
        }
    }

    /// <summary>A message from a JSON object (<c>{"role": …, "content": …, …}</c>).</summary>
    public static ChatMessage FromJson(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object) throw new FormatException($"a chat message must be a JSON object, not {message.ValueKind}");
        if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            throw new FormatException("a chat message needs a string \"role\"");
        return new ChatMessage(message.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, p.Value.Clone())));
    }

    /// <summary>Messages from a JSON array of message objects; errors name the message index.</summary>
    public static IReadOnlyList<ChatMessage> ListFromJson(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new FormatException($"messages must be a JSON array, not {messages.ValueKind}");
        var list = new List<ChatMessage>();
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            try { list.Add(FromJson(m)); }
            catch (FormatException e) { throw new FormatException($"message {i}: {e.Message}", e); }
            i++;
        }
        return list;
    }

    /// <summary>Messages from JSON text (an array of message objects).</summary>
    public static IReadOnlyList<ChatMessage> ListFromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ListFromJson(doc.RootElement);
    }

    /// <summary>A message from a <see cref="JsonNode"/> object.</summary>
    public static ChatMessage FromJsonNode(JsonNode message)
    {
        using var doc = JsonDocument.Parse(message.ToJsonString());
        return FromJson(doc.RootElement);
    }

    internal PyDict ToPyDict()
    {
        var d = new PyDict();
        foreach (var (k, v) in _fields) d.Set(k, Py.FromClr(v));
        return d;
    }
}
