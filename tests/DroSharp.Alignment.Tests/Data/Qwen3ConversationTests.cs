using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Models;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Alignment.Tests.Data;

/// <summary>
/// Qwen3's real tokenizer and chat template (Fixtures/qwen3, shared with the Text tests) through the data layer:
/// conversational rows load as prompt tokens ⧺ completion tokens equal to the tokens of the whole rendered conversation.
/// </summary>
public class Qwen3ConversationTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "qwen3");

    private static readonly Lazy<Tokenizer> QwenTokenizer = new(() => Tokenizer.FromFile(Path.Combine(Dir, "tokenizer.json.gz")));

    private static ChatTemplate Template()
    {
        var t = ChatTemplate.FromModelDirectory(Dir)!;
        t.Clock = () => new DateTime(2025, 1, 15, 12, 0, 0);
        return t;
    }

    private static SpecialTokens Tokens(Tokenizer t)
    {
        int imEnd = t.TokenToId("<|im_end|>")!.Value, endOfText = t.TokenToId("<|endoftext|>")!.Value;
        return new SpecialTokens(endOfText, imEnd, [imEnd, endOfText], null, AppendEosToCompletion: true);
    }

    /// <summary>Rows from the golden Qwen3 conversations (tool calls, reasoning, multi-turn, enable_thinking) and hard boundaries.</summary>
    private static List<(string Row, List<JsonElement> Conversation, JsonElement? Kwargs)> Rows()
    {
        var rows = new List<(string, List<JsonElement>, JsonElement?)>();
        foreach (var line in File.ReadLines(Path.Combine(Dir, "cases.jsonl")).Where(l => l.Trim().Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var c = doc.RootElement;
            if (c.TryGetProperty("error", out _)) continue;
            var messages = c.GetProperty("messages").EnumerateArray().Select(m => m.Clone()).ToList();
            int last = messages.FindLastIndex(m => m.GetProperty("role").GetString() == "assistant");
            if (last <= 0 || messages[last - 1].GetProperty("role").GetString() is not ("user" or "tool")) continue;
            var conversation = messages.Take(last + 1).ToList();
            JsonElement? kwargs = c.GetProperty("extra").TryGetProperty("enable_thinking", out var et)
                ? JsonSerializer.SerializeToElement(new Dictionary<string, object?> { ["enable_thinking"] = et })
                : null;
            var row = new Dictionary<string, object?>
            {
                ["prompt"] = conversation.Take(last).ToList(),
                ["completion"] = new[] { conversation[last] },
                ["label"] = rows.Count % 2 == 0,
            };
            if (kwargs is not null) row["chat_template_kwargs"] = kwargs;
            rows.Add((JsonSerializer.Serialize(row), conversation, kwargs));
        }
        foreach (var content in new[] { "  leading and trailing spaces  ", "\n\nnewlines first", "emoji 🦜 and ünïcode", "<|im_end|> inside", "ends with\n" })
        {
            var conversation = new List<JsonElement>
            {
                JsonSerializer.SerializeToElement(new { role = "user", content = "Say: " + content }),
                JsonSerializer.SerializeToElement(new { role = "assistant", content }),
            };
            rows.Add((JsonSerializer.Serialize(new { prompt = new[] { conversation[0] }, completion = content, label = rows.Count % 2 == 0 }), conversation, null));
        }
        return rows;
    }

    [Fact]
    public void PromptThenCompletionTokensAreTheWholeConversationsTokens()
    {
        var tokenizer = QwenTokenizer.Value;
        var rows = Rows();
        Assert.True(rows.Count >= 8, $"only {rows.Count} rows");
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("qwen3.jsonl", string.Join("\n", rows.Select(r => r.Row)) + "\n");
        var encoder = new TokenizerTextEncoder(tokenizer, Tokens(tokenizer), Template());
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path, MaxPromptLength = null, MaxCompletionLength = null }, encoder);

        var examples = data.Train.Examples;
        Assert.Equal(rows.Count, examples.Count);
        int imEnd = tokenizer.TokenToId("<|im_end|>")!.Value, imStart = tokenizer.TokenToId("<|im_start|>")!.Value;
        var template = Template();
        for (int i = 0; i < rows.Count; i++)
        {
            var (_, conversation, kwargs) = rows[i];
            var extra = kwargs?.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
            string whole = template.Render(conversation.Select(ChatMessage.FromJson).ToList(), addGenerationPrompt: false, extra);
            int[] expected = tokenizer.EncodeIds(whole, addSpecialTokens: false);
            Assert.Equal(expected, examples[i].PromptIds.Concat(examples[i].CompletionIds).ToArray());
            Assert.Equal(imStart, examples[i].PromptIds[0]);
            Assert.Contains(imEnd, examples[i].CompletionIds);
            Assert.True(examples[i].CompletionIds.Length < expected.Length);
        }
        var s = data.Train.Summary;
        Assert.Equal((rows.Count, 0, 0), (s.ConversationalRows, s.PromptsCutToCommonPrefix, s.SplitTokenizationMismatches));
    }
}
