using DroSharp.Alignment.Data;
using DroSharp.Models;
using DroSharp.Text.Templates;
using static DroSharp.Alignment.Tests.Data.ChatFixture;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

/// <summary>Conversational rows through <see cref="TrainingDataLoader"/>: rendering at encoding time, and everything after it.</summary>
public class ConversationalDataLoaderTests
{
    private const string Log = """
        {"prompt": [{"role": "user", "content": "What colour is the sky?"}], "completion": [{"role": "assistant", "content": "It is blue."}], "label": true}
        {"prompt": [{"role": "user", "content": "What colour is the sky?"}], "completion": "It is green.", "label": false}
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What colour is the sky?"}], "completion": [{"role": "assistant", "content": "Blue."}], "label": true}
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "label": false}
        """;

    private static readonly ChatMessage[][] LogConversations =
    [
        [Message("user", "What colour is the sky?"), Message("assistant", "It is blue.")],
        [Message("user", "What colour is the sky?"), Message("assistant", "It is green.")],
        [Message("system", "Be brief."), Message("user", "What colour is the sky?"), Message("assistant", "Blue.")],
        [Message("user", "Hi"), Message("assistant", "Hello")],
    ];

    private static int[] Cat(int[] a, int[] b) => [.. a, .. b];

    private static TrainingData Load(string content, TrainingDataOptions? options = null, ITextEncoder? encoder = null)
    {
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("log.jsonl", content);
        return TrainingDataLoader.Load((options ?? new TrainingDataOptions { DataPath = path }) with { DataPath = path }, encoder ?? Encoder());
    }

    [Fact]
    public void PromptTokensThenCompletionTokensAreTheWholeRenderedConversation()
    {
        var data = Load(Log, new TrainingDataOptions { DataPath = "", MaxPromptLength = null, MaxCompletionLength = null, NormalizeRewards = false });
        var t = data.Train;
        Assert.Equal(4, t.Count);
        for (int i = 0; i < 4; i++)
        {
            var x = t.Examples[i];
            Assert.Equal(WholeIds(LogConversations[i]), Cat(x.PromptIds, x.CompletionIds));
            Assert.Equal(Bos, x.PromptIds[0]); // written by the template, not added by us
            Assert.Equal(ImEnd, x.CompletionIds[^1]); // the template's end of turn; no EOS appended after it
            Assert.Equal(1, x.CompletionIds.Count(id => id == ImEnd));
        }
        // The prompt ends with the generation prompt "<|im_start|>assistant\n".
        string prompt = Tokenizer.Decode(t.Examples[0].PromptIds);
        Assert.EndsWith("<|im_start|>assistant\n", prompt);
        Assert.Equal("It is blue.<|im_end|>", Tokenizer.Decode(t.Examples[0].CompletionIds));
        Assert.Equal(new double?[] { 1, 0, 1, 0 }, t.Examples.Select(e => e.Reward));

        var s = t.Summary;
        Assert.Equal((4, 0, 0), (s.ConversationalRows, s.PromptsCutToCommonPrefix, s.SplitTokenizationMismatches));
        Assert.Equal(3, s.DistinctPrompts); // rows 1 and 2 share their prompt
        Assert.Equal([0, 1], t.PromptGroups.Groups[0]);
        Assert.Contains("conversations: 4 rendered with the chat template", s.ToString());
        Assert.Empty(data.Warnings);
    }

    [Fact]
    public void TruncationKeepsTheTemplatesBosAndEndOfTurn()
    {
        var data = Load(Log, new TrainingDataOptions { DataPath = "", MaxPromptLength = 3, MaxCompletionLength = 2, BosId = Bos, EndIds = [ImEnd] });
        foreach (var x in data.Train.Examples)
        {
            Assert.Equal(3, x.PromptIds.Length);
            Assert.Equal(Bos, x.PromptIds[0]);
            Assert.Equal(2, x.CompletionIds.Length);
            Assert.Equal(ImEnd, x.CompletionIds[^1]);
        }
        Assert.Equal(4, data.Train.Summary.Truncation.PromptsTruncated);
    }

    [Fact]
    public void EvalSplitKeepsConversationsWithTheSamePromptTogether()
    {
        var lines = new List<string>();
        for (int i = 0; i < 20; i++)
            foreach (var reply in new[] { "yes", "no" })
                lines.Add($$"""{"prompt": [{"role": "user", "content": "question {{i}}"}], "completion": "{{reply}}", "reward": {{i % 3 + (reply == "yes" ? 1 : 0)}}}""");
        var data = Load(string.Join("\n", lines), new TrainingDataOptions { DataPath = "", EvalFraction = 0.25, Seed = 7 });
        var train = data.Train.Examples.Select(e => string.Join(",", e.PromptIds)).ToHashSet();
        var eval = data.Eval!.Examples.Select(e => string.Join(",", e.PromptIds)).ToList();
        Assert.Equal(10, eval.Count);
        Assert.Empty(train.Intersect(eval));
        Assert.All(data.Eval.PromptGroups.Groups, g => Assert.Equal(2, g.Length));
        // z-normalised over the training split.
        Assert.Equal(0, data.Train.Examples.Average(e => e.Reward!.Value), 12);
        Assert.NotNull(data.Eval.Summary.ConversationalRows);
    }

    [Fact]
    public void PairsShareOnePromptAndBecomeLabelledRowsForDro()
    {
        const string pairs = """
            {"prompt": [{"role": "user", "content": "What colour is the sky?"}], "chosen": [{"role": "assistant", "content": "It is blue."}], "rejected": [{"role": "assistant", "content": "It is green."}]}
            {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away"}]}
            """;
        var dpo = Load(pairs, new TrainingDataOptions { DataPath = "", Requirement = DataRequirement.Pairs, Purpose = "dpo" });
        var p = dpo.Train.Pairs[0];
        Assert.Equal(WholeIds([Message("user", "What colour is the sky?"), Message("assistant", "It is blue.")]), Cat(p.PromptIds, p.ChosenIds));
        Assert.Equal(WholeIds([Message("user", "What colour is the sky?"), Message("assistant", "It is green.")]), Cat(p.PromptIds, p.RejectedIds));
        var q = dpo.Train.Pairs[1];
        Assert.Equal(WholeIds([Message("user", "Hi"), Message("assistant", "Go away")]), Cat(q.PromptIds, q.RejectedIds));
        Assert.Equal(2, dpo.Train.Summary.ConversationalRows);

        var dro = Load(pairs, new TrainingDataOptions { DataPath = "", Purpose = "dro-v" });
        Assert.Equal(4, dro.Train.Count);
        Assert.Equal(dro.Train.Examples[0].PromptIds, dro.Train.Examples[1].PromptIds);
        Assert.Equal(p.ChosenIds, dro.Train.Examples[0].CompletionIds);
        Assert.Equal(p.RejectedIds, dro.Train.Examples[1].CompletionIds);
        Assert.Equal("pairs", dro.Train.Summary.ConvertedFrom);
    }

    [Fact]
    public void TemplateVariablesComeFromTheOptionsAndTheRow()
    {
        const string rows = """
            {"prompt": [{"role": "user", "content": "sky?"}], "completion": "blue", "label": true}
            {"prompt": [{"role": "user", "content": "sky?"}], "completion": "blue", "label": false, "chat_template_kwargs": {"shout": false}}
            """;
        var shout = new Dictionary<string, object?> { ["shout"] = true };
        var t = Load(rows, encoder: Encoder(kwargs: shout)).Train;
        var conversation = new[] { Message("user", "sky?"), Message("assistant", "blue") };
        Assert.Equal(WholeIds(conversation, shout), Cat(t.Examples[0].PromptIds, t.Examples[0].CompletionIds));
        Assert.Contains("SKY?", Tokenizer.Decode(t.Examples[0].PromptIds));
        // The row's own chat_template_kwargs win over the command line's.
        Assert.Equal(WholeIds(conversation), Cat(t.Examples[1].PromptIds, t.Examples[1].CompletionIds));
        Assert.Equal(2, t.Summary.DistinctPrompts);
    }

    [Fact]
    public void WithoutAChatTemplateTheFirstConversationalRowIsNamedEvenWhenSkipping()
    {
        var plain = new TokenizerTextEncoder(Tokenizer, Tokens);
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("log.jsonl", "{\"prompt_ids\": [5], \"completion_ids\": [6], \"label\": true}\n" + Log);
        var e = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path, SkipBadRows = true }, plain));
        Assert.Equal((DataErrorKind.ConversationalFormat, 2), (e.Kind, e.Line));
        Assert.StartsWith($"{path}:2: the rows are conversations (chat messages), but the model has no chat template", e.Message);
        Assert.Contains("--chat-template FILE", e.Message);

        var t5 = new TokenizerTextEncoder(Tokenizer, new SpecialTokens(0, 1, [1], null, AppendEosToCompletion: false), ChatTemplate());
        var e5 = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, t5));
        Assert.Contains("T5", e5.Reason);
        var none = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, null));
        Assert.Contains("no tokenizer", none.Reason);
        // Plain encoders (ITextEncoder.From) have no chat template either.
        var from = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, CharEncoder));
        Assert.Contains("no chat template", from.Reason);
    }

    [Fact]
    public void RowsTheTemplateRefusesAreBadRows()
    {
        const string strict = "{% for m in messages %}{% if m.content == 'boom' %}{{ raise_exception('no boom here') }}{% endif %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}" +
                              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        const string rows = """
            {"prompt": [{"role": "user", "content": "fine"}], "completion": "ok", "reward": 1}
            {"prompt": [{"role": "user", "content": "boom"}], "completion": "ok", "reward": 2}
            {"prompt": [{"role": "user", "content": "also fine"}], "completion": [{"role": "assistant", "content": "boom"}], "reward": 3}
            {"prompt": [{"role": "user", "content": "last"}], "completion": "ok", "reward": 4}
            """;
        var e = Assert.Throws<DataFormatException>(() => Load(rows, encoder: Encoder(strict)));
        AssertError(e, DataErrorKind.ChatTemplateFailed, 2, "prompt");
        Assert.EndsWith("the chat template refuses the messages: no boom here", e.Message);

        var skipped = Load(rows, new TrainingDataOptions { DataPath = "", SkipBadRows = true }, Encoder(strict));
        Assert.Equal([1, 4], skipped.Train.Examples.Select(x => x.Line));
        Assert.Equal([2, 3], skipped.SkippedRows.Select(s => s.Line));
        Assert.Equal(2, skipped.Train.Summary.SkippedRows);

        // A template that fails (not a raise_exception) names its own line and column.
        var broken = Assert.Throws<DataFormatException>(() => Load(rows, encoder: Encoder("{{ messages[0].content + 1 }}")));
        AssertError(broken, DataErrorKind.ChatTemplateFailed, 1, "prompt");
        Assert.Contains("line 1, column", broken.Reason);
    }

    [Fact]
    public void APromptTheWholeConversationRendersDifferentlyIsCutToTheCommonPrefixAndCounted()
    {
        // As later DeepSeek-R1 templates: the generation prompt opens a think block the finished turn does not show.
        const string thinking = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}" +
                                "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}";
        var data = Load(Log, new TrainingDataOptions { DataPath = "", MaxPromptLength = null, MaxCompletionLength = null }, Encoder(thinking));
        var s = data.Train.Summary;
        Assert.Equal(4, s.PromptsCutToCommonPrefix);
        var warning = Assert.Single(data.Warnings, w => w.Contains("common prefix"));
        Assert.Contains("first: line 1", warning);
        Assert.Contains("(32 characters in all)", warning); // "<think>\n" is 8 characters, 4 rows
        var x = data.Train.Examples[0];
        Assert.Equal(WholeIds(LogConversations[0], source: thinking), Cat(x.PromptIds, x.CompletionIds));
        Assert.EndsWith("<|im_start|>assistant\n", Tokenizer.Decode(x.PromptIds));
        Assert.Equal("It is blue.<|im_end|>", Tokenizer.Decode(x.CompletionIds));
    }

    [Fact]
    public void RowEncoderRendersAPromptWithTheGenerationPrompt()
    {
        var prompts = FeedbackFileReader.ParsePrompts(System.Text.Encoding.UTF8.GetBytes(
            """{"prompt": [{"role": "user", "content": "What colour is the sky?"}]}""" + "\n"), "p.jsonl");
        var row = new RowEncoder(Encoder(), "p.jsonl").Encode(prompts.Prompts[0]);
        Assert.Equal("<s><|im_start|>user\nWhat colour is the sky?<|im_end|><|im_start|>assistant\n", row.PromptText);
        Assert.Equal(Tokenizer.EncodeIds(row.PromptText!, addSpecialTokens: false), row.PromptIds);
        Assert.Empty(row.ResponseIds);
        Assert.True(row.Conversational);
    }

    [Fact]
    public void OutOfVocabularyIdsInARenderedRowAreNamed()
    {
        var e = Assert.Throws<DataFormatException>(() => Load(Log, new TrainingDataOptions { DataPath = "", VocabSize = 10 }));
        AssertError(e, DataErrorKind.TokenOutOfVocabulary, 1, "prompt");
    }
}
