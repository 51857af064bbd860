using System.Text.Json;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Cli.Tests.Commands;

/// <summary><c>dro template</c>: per row, the text the tokenizer gets and the ids the model sees, checked against an independent rendering.</summary>
public sealed class TemplateCommandTests : IDisposable
{
    private readonly ConversationFixture _f = new();
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template = new(ConversationFixture.ChatMl);

    public TemplateCommandTests() => _tokenizer = Tokenizer.FromFile(Path.Combine(_f.Model, "tokenizer.json"));

    public void Dispose() => _f.Dispose();

    private static ChatMessage M(string role, string content) => new(role, content);

    private int[] Ids(string text) => _tokenizer.EncodeIds(text, addSpecialTokens: false);

    private static int[] IdsOf(JsonElement row, string field) => row.GetProperty(field).EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private List<JsonElement> Template(string data, params string[] extra)
    {
        string outFile = _f.PathOf(Guid.NewGuid().ToString("N") + ".jsonl");
        CliRunner.Ok(["template", "--model", _f.Model, "--data", data, "--out", outFile, .. extra]);
        return ConversationFixture.ReadJsonl(outFile);
    }

    [Fact]
    public void ConversationalFeedbackShowsTheRenderedSplitAndItsTokens()
    {
        var rows = Template(_f.Log);
        var source = ConversationFixture.ReadJsonl(_f.Log);
        Assert.Equal(source.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            string question = source[i].GetProperty("prompt")[0].GetProperty("content").GetString()!;
            string answer = source[i].GetProperty("completion")[0].GetProperty("content").GetString()!;
            string prompt = _template.Render([M("user", question)], addGenerationPrompt: true);
            string whole = _template.Render([M("user", question), M("assistant", answer)], addGenerationPrompt: false);
            Assert.Equal(i + 1, r.GetProperty("line").GetInt32());
            Assert.Equal(prompt, r.GetProperty("prompt_text").GetString());
            Assert.Equal(whole, r.GetProperty("prompt_text").GetString() + r.GetProperty("completion_text").GetString());
            Assert.Equal(Ids(prompt), IdsOf(r, "prompt_ids"));
            Assert.Equal(Ids(whole), IdsOf(r, "prompt_ids").Concat(IdsOf(r, "completion_ids")).ToArray());
            Assert.Equal(source[i].GetProperty("label").GetBoolean(), r.GetProperty("label").GetBoolean());
        }
        Assert.Equal("<|im_start|>user\nwhat colour is thing 0?<|im_end|>\n<|im_start|>assistant\n", rows[0].GetProperty("prompt_text").GetString());
    }

    [Fact]
    public void PairsShowChosenAndRejected()
    {
        var rows = Template(_f.WritePairs("pairs.jsonl", 4));
        Assert.Equal(4, rows.Count);
        foreach (var (r, i) in rows.Select((r, i) => (r, i)))
        {
            string question = ConversationFixture.Question(i);
            Assert.Equal(_template.Render([M("user", question)], addGenerationPrompt: true), r.GetProperty("prompt_text").GetString()); // implicit prompts too
            Assert.Equal($"it is {FeedbackFixture.RightColor(i)}<|im_end|>\n", r.GetProperty("chosen_text").GetString());
            Assert.Equal("it is black<|im_end|>\n", r.GetProperty("rejected_text").GetString());
            Assert.Equal(Ids(_template.Render([M("user", question), M("assistant", "it is black")], false)),
                IdsOf(r, "prompt_ids").Concat(IdsOf(r, "rejected_ids")).ToArray());
            Assert.False(r.TryGetProperty("completion_text", out _));
        }
    }

    [Fact]
    public void PlainRowsPromptsFilesTruncationAndStandardOutput()
    {
        string plain = _f.PathOf("plain.jsonl");
        File.WriteAllLines(plain, ["{\"prompt\": \"what colour\", \"completion\": \"it is red\", \"reward\": 0.5}", "{\"prompt_ids\": [5, 6], \"completion_ids\": [7, 4], \"reward\": 1}"]);
        var rows = Template(plain);
        int imEnd = _tokenizer.TokenToId("<|im_end|>")!.Value;
        Assert.Equal("what colour", rows[0].GetProperty("prompt_text").GetString());
        Assert.Equal(_tokenizer.EncodeIds("what colour", addSpecialTokens: true), IdsOf(rows[0], "prompt_ids"));
        Assert.Equal([.. Ids("it is red"), imEnd], IdsOf(rows[0], "completion_ids")); // a decoder's completion ends with its EOS
        Assert.Equal(0.5, rows[0].GetProperty("reward").GetDouble());
        Assert.Equal(_tokenizer.Decode([7, 4]), rows[1].GetProperty("completion_text").GetString()); // ids verbatim, shown decoded

        string prompts = _f.PathOf("prompts.jsonl");
        File.WriteAllLines(prompts, ["{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]);
        var p = Assert.Single(Template(prompts, "--max-prompt-length", "4"));
        string rendered = _template.Render([M("user", "hi")], addGenerationPrompt: true);
        Assert.Equal(rendered, p.GetProperty("prompt_text").GetString());
        Assert.Equal(Ids(rendered)[^4..], IdsOf(p, "prompt_ids"));

        var (code, output, err) = CliRunner.Run("template", "--model", _f.Model, "--data", prompts);
        Assert.Equal(0, code);
        Assert.Equal(rendered, JsonDocument.Parse(output.Trim()).RootElement.GetProperty("prompt_text").GetString());
        Assert.Contains("1 conversational, rendered with", err);
    }

    [Fact]
    public void BadRowsStopOrAreSkipped()
    {
        string bad = _f.PathOf("bad.jsonl");
        File.WriteAllLines(bad, [
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"a\"}], \"completion\": \"x\"}",
            "{\"prompt\": [{\"role\": \"system\", \"content\": \"a\"}], \"completion\": \"x\"}",
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"b\"}], \"completion\": \"y\"}"]);
        var (code, _, err) = CliRunner.Run("template", "--model", _f.Model, "--data", bad);
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2: field 'prompt': the prompt's last message is from \"system\"", err);
        Assert.Equal([1, 3], Template(bad, "--skip-bad-rows").Select(r => r.GetProperty("line").GetInt32()));
    }
}
