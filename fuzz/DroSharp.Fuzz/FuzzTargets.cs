using System.Text;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Decoder;
using DroSharp.Models.Gguf;
using DroSharp.Models.T5;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Fuzz;

/// <summary>
/// Every parser of a file a user hands to <c>dro</c>, as a fuzz target. Each catches only its parser's documented
/// errors (what the CLI prints as one line); what it accepts it also uses (encode and decode, render, read the
/// tensors, round-trip the config), because a file that loads and then crashes is as bad as one that crashes loading.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Tensors up to this many elements are read back (bigger ones only have their header checked).</summary>
    private const long ReadElementLimit = 1 << 16;

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("safetensors", "a model.safetensors file (header, metadata, tensor data)", Safetensors),
        new("shard-index", "a model.safetensors.index.json", ShardIndex),
        new("config", "a config.json of any family (T5Config.Parse, DecoderConfig.Parse through ModelFamilies.ParseConfig)", Config),
        new("tokenizer", "a tokenizer.json (Tokenizer.FromJson, then encode and decode)", TokenizerJson),
        new("tokenizer-config", "a tokenizer_config.json with a chat template (ChatTemplate.FromModelDirectory, then render)", TokenizerConfig),
        new("chat-template", "a chat_template.jinja (parse, then render sample conversations)", ChatTemplateSource),
        new("feedback-jsonl", "a JSONL feedback file (FeedbackFileReader, TrainingDataLoader)", bytes => Feedback(bytes, "data.jsonl")),
        new("feedback-csv", "a CSV feedback file (FeedbackFileReader, TrainingDataLoader)", bytes => Feedback(bytes, "data.csv")),
        new("gguf", "a GGUF file (GgufReader, Describe, tensor data)", Gguf),
        new("run-json", "a run directory's run.json (TrainingOptions.FromJson, Validate), read by --resume", RunJson),
        // PEFT adapter_config.json: add a target here when its parser lands (see docs/reliability.md).
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"unknown fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    // ---------------------------------------------------------------- checkpoints

    private static void Safetensors(byte[] bytes)
    {
        string dir = ScratchDirectory.WriteOnly("model.safetensors", bytes);
        try
        {
            using var r = SafetensorsReader.Open(Path.Combine(dir, "model.safetensors"));
            _ = r.Metadata?.Count;
            foreach (var info in r.Tensors)
            {
                if (info.ElementCount > ReadElementLimit) continue;
                try
                {
                    if (info.Dtype.IsReadableAsInt64()) _ = r.ReadInt64(info.Name);
                    else using (r.ReadTensor(info.Name)) { }
                }
                catch (CheckpointFormatException) { } // e.g. a dtype that has no float reading
            }
        }
        catch (CheckpointFormatException) { }
    }

    private static void ShardIndex(byte[] bytes)
    {
        string dir = ScratchDirectory.WriteOnly(ShardedCheckpointIndex.FileName, bytes);
        try
        {
            var index = ShardedCheckpointIndex.Load(Path.Combine(dir, ShardedCheckpointIndex.FileName));
            foreach (var shard in index.ShardFiles) _ = shard.Length;
        }
        catch (CheckpointFormatException) { }
    }

    private static void Config(byte[] bytes)
    {
        IModelConfig config;
        try { (_, config) = ModelFamilies.ParseConfig(Text(bytes), "config.json"); }
        catch (CheckpointFormatException) { return; }
        // What the commands do with an accepted config: size it, write it, read it back.
        _ = config switch { DecoderConfig d => d.ParameterCount(), T5Config t => t.ParameterCount(), _ => 0 };
        var (_, again) = ModelFamilies.ParseConfig(config.ToJson(), "config.json (written back)");
        if (again.VocabSize != config.VocabSize || again.HiddenSize != config.HiddenSize)
            throw new InvalidOperationException("config.json changed on a write/read round trip");
    }

    private static void Gguf(byte[] bytes)
    {
        string dir = ScratchDirectory.WriteOnly("model.gguf", bytes);
        try
        {
            using var r = GgufReader.Open(Path.Combine(dir, "model.gguf"));
            _ = r.Describe().Count();
            _ = r.Architecture;
            foreach (var t in r.Tensors)
                if (t.ElementCount <= ReadElementLimit && GgufTensorTypes.IsFloatCodec(t.Type)) _ = r.ReadTensorFloats(t.Name);
        }
        catch (CheckpointFormatException) { }
    }

    // ---------------------------------------------------------------- text

    private static readonly string[] SampleTexts = ["Hello, world! 123", "  ünïcödé — 🙂 \t tabs\nnew line", "", "<s></s><unk>[UNK]<|im_start|>"];

    private static void TokenizerJson(byte[] bytes)
    {
        Tokenizer tokenizer;
        try { tokenizer = Tokenizer.FromJson(Text(bytes)); }
        catch (Exception e) when (e is FormatException or NotSupportedException or JsonException) { return; }
        foreach (var text in SampleTexts)
        {
            int[] ids;
            try { ids = tokenizer.EncodeIds(text, addSpecialTokens: true); }
            catch (UnencodableTextException) { continue; } // no unknown token for a piece outside the vocabulary (as HF)
            _ = tokenizer.Decode(ids, skipSpecialTokens: true);
            _ = tokenizer.Decode(ids, skipSpecialTokens: false);
        }
        // A tokenizer DroSharp accepted must accept its own output.
        _ = Tokenizer.FromJson(tokenizer.ToJson());
    }

    // Lazy: instrumented code must not run before SharpFuzz's Fuzzer.Run has mapped AFL's shared memory.
    private static readonly Lazy<IReadOnlyList<ChatMessage>[]> SampleConversations = new(() =>
    [
        [new ChatMessage("user", "Hi there")],
        [new ChatMessage("system", "Be brief."), new ChatMessage("user", "What is 2+2?"), new ChatMessage("assistant", "4"), new ChatMessage("user", "Thanks")],
    ]);

    private static void Render(ChatTemplate template)
    {
        template.Clock = () => new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Local);
        foreach (var conversation in SampleConversations.Value)
        {
            try
            {
                _ = template.Render(conversation, addGenerationPrompt: true);
                _ = template.Render(conversation, addGenerationPrompt: false);
            }
            catch (ChatTemplateException) { } // template errors and raise_exception(...)
        }
    }

    private static void ChatTemplateSource(byte[] bytes)
    {
        ChatTemplate template;
        var specials = new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" };
        try { template = new ChatTemplate(Text(bytes), specials, "chat_template.jinja"); }
        catch (ChatTemplateException) { return; }
        Render(template);
    }

    private static void TokenizerConfig(byte[] bytes)
    {
        string dir = ScratchDirectory.WriteOnly("tokenizer_config.json", bytes);
        ChatTemplate? template;
        try { template = ChatTemplate.FromModelDirectory(dir); }
        catch (Exception e) when (e is FormatException or ChatTemplateException) { return; }
        if (template is not null) Render(template);
    }

    // ---------------------------------------------------------------- data and runs

    /// <summary>Prompt ids: each char to 3 + (c mod 60); completions end with EOS 1; a vocabulary of 64 is checked.</summary>
    private static readonly Lazy<ITextEncoder> CharEncoder = new(() => ITextEncoder.From(
        t => t.Select(c => 3 + c % 60).ToArray(),
        t => [.. t.Select(c => 3 + c % 60), 1]));

    private static void Feedback(byte[] bytes, string fileName)
    {
        // The options vary with the input's length so every path (skipping, pairs, SFT rows, an eval split) is reached.
        int n = bytes.Length;
        var requirement = (DataRequirement)(n % 3);
        string dir = ScratchDirectory.WriteOnly(fileName, bytes);
        try
        {
            _ = FeedbackFileReader.Parse(bytes, fileName, new FeedbackReadOptions { SkipBadRows = n % 2 == 0 });
            _ = FeedbackFileReader.ParsePrompts(bytes, fileName);
        }
        catch (DataFormatException) { }
        try
        {
            var data = TrainingDataLoader.Load(new TrainingDataOptions
            {
                DataPath = Path.Combine(dir, fileName),
                EvalFraction = n % 5 == 0 ? 0.25 : null,
                SkipBadRows = n % 2 == 0,
                MaxPromptLength = 8,
                MaxCompletionLength = 6,
                EndIds = [1],
                VocabSize = 64,
                Requirement = requirement,
                NormalizeRewards = n % 7 != 0,
            }, CharEncoder.Value);
            _ = JsonSerializer.Serialize(data.Train.Summary);
        }
        catch (DataFormatException) { }
    }

    private static void RunJson(byte[] bytes)
    {
        try
        {
            var options = TrainingOptions.FromJson(Text(bytes), "run.json");
            options.Validate();
            _ = TrainingOptions.FromJson(options.ToJson(), "run.json (written back)");
        }
        catch (TrainingException) { }
    }
}
