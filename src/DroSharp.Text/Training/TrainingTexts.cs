using System.Text.Json;

namespace DroSharp.Text.Training;

/// <summary>
/// Texts for tokenizer training from a JSON-lines file: each line is an object with a string <c>text</c>,
/// or with <c>prompt</c> and <c>completion</c>, a <c>messages</c> conversation, or <c>chosen</c> and
/// <c>rejected</c> (after an optional <c>prompt</c>) — each a string, or a list of chat messages whose
/// <c>content</c> strings are taken (a null content, e.g. of a tool call, is skipped) — yielded as separate texts. Blank lines are skipped; anything else
/// is a <see cref="FormatException"/> naming the file, line and field.
/// </summary>
public static class TrainingTexts
{
    public static IEnumerable<string> ReadJsonl(string path)
    {
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{path}:{lineNumber}";
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new FormatException($"{where}: not valid JSON ({e.Message})");
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new FormatException($"{where}: expected a JSON object, found {root.ValueKind}");
                var texts = new List<string>();
                if (root.TryGetProperty("text", out var text))
                {
                    AddField(text, "text", where, texts);
                }
                else if (root.TryGetProperty("prompt", out var prompt) && root.TryGetProperty("completion", out var completion))
                {
                    AddField(prompt, "prompt", where, texts);
                    AddField(completion, "completion", where, texts);
                }
                else if (root.TryGetProperty("messages", out var messages))
                {
                    AddField(messages, "messages", where, texts);
                }
                else if (root.TryGetProperty("chosen", out var chosen) && root.TryGetProperty("rejected", out var rejected))
                {
                    if (root.TryGetProperty("prompt", out var pairPrompt)) AddField(pairPrompt, "prompt", where, texts);
                    AddField(chosen, "chosen", where, texts);
                    AddField(rejected, "rejected", where, texts);
                }
                else
                {
                    throw new FormatException($"{where}: expected a \"text\" field, \"prompt\" and \"completion\" fields, a \"messages\" list, or \"chosen\" and \"rejected\" fields");
                }
                foreach (string t in texts) yield return t;
            }
        }
    }

    private static void AddField(JsonElement value, string field, string where, List<string> texts)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            texts.Add(value.GetString()!);
            return;
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var message in value.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content)
                    || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    throw new FormatException($"{where}: field \"{field}\"[{i}]: expected a message object with a string \"content\"");
                if (content.ValueKind == JsonValueKind.String) texts.Add(content.GetString()!);
                i++;
            }
            return;
        }
        throw new FormatException($"{where}: field \"{field}\" must be a string or a list of messages, found {value.ValueKind}");
    }
}
