using System.CommandLine;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Models.Generation;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro generate</c>: completions for a file of prompts.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "HF model directory (with tokenizer.json).", Required = true };
        var prompts = new Option<string>("--prompts") { Description = "JSONL or CSV with a prompt column (text, prompt_ids, or a list of chat messages rendered with the chat template and its generation prompt).", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSONL: {\"index\", \"sample\", \"prompt\", \"completion\", \"completion_ids\"} per sample (for chat messages, completion is [{\"role\": \"assistant\", \"content\": …}]).", Required = true };
        var samples = new Option<int>("--num-samples") { Description = "Samples per prompt.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 means greedy decoding.", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0: off).", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (1: off).", DefaultValueFactory = _ => 1f };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Stop after this many tokens if EOS has not come.", DefaultValueFactory = _ => 64 };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Prompts decoded together.", DefaultValueFactory = _ => 16 };
        var chatTemplate = ChatTemplateOptions.Template();
        var chatKwargs = ChatTemplateOptions.Kwargs();
        var maxPrompt = new Option<int?>("--max-prompt-length") { Description = "Cut prompts to their last N tokens, as train does. [default: 512]", DefaultValueFactory = _ => 512 };
        var cmd = new Command("generate", "Sample (or greedily decode) completions with a KV cache.");
        foreach (var o in new Option[] { model, prompts, output, samples, temperature, topK, topP, maxNew, seed, batch, chatTemplate, chatKwargs, maxPrompt }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!, file = parse.GetValue(prompts)!, outPath = parse.GetValue(output)!;
            int n = parse.GetValue(samples), bs = parse.GetValue(batch);
            float temp = parse.GetValue(temperature);
            if (n < 1 || bs < 1) throw new UserErrorException("--num-samples and --batch-size must be at least 1");
            if (temp < 0) throw new UserErrorException("--temperature must be ≥ 0");
            var options = new GenerationOptions
            {
                Greedy = temp == 0, Temperature = temp == 0 ? 1f : temp, TopK = parse.GetValue(topK), TopP = parse.GetValue(topP),
                MaxNewTokens = parse.GetValue(maxNew), Seed = parse.GetValue(seed),
            };
            try { options.Validate(); } catch (ArgumentException e) { throw new UserErrorException(e.Message); }
            SequenceLimits.RequirePositive(parse.GetValue(maxPrompt), "--max-prompt-length");
            using var outFile = OutputFile.Create(outPath, "--out", ("--prompts", file));
            var writer = outFile.Writer;
            using var policy = ModelDirectory.LoadPolicy(dir);
            var tokenizer = ModelDirectory.LoadTokenizer(dir);
            var limits = new SequenceLimits(policy, parse.GetValue(maxPrompt), null);
            var rows = FeedbackFileReader.ReadPrompts(file).Prompts;
            bool conversational = rows.Any(r => r.Prompt.IsConversational);
            var rowEncoder = conversational
                ? new RowEncoder(ModelDirectory.Encoder(tokenizer, policy.Tokens, ChatTemplateOptions.Load(dir, parse.GetValue(chatTemplate)),
                    ChatTemplateOptions.ParseKwargs(parse.GetValue(chatKwargs))), file, policy.Config.VocabSize)
                : null;
            var gen = new Generator(policy);
            var work = new List<(int Index, int Sample, int[] Ids, PromptRow Row)>();
            foreach (var (row, index) in rows.Select((r, i) => (r, i)))
            {
                // A conversation is rendered with the generation prompt (TRL's prompt-only rows); text and ids as before.
                var ids = limits.Prompt(row.Prompt.IsConversational
                    ? rowEncoder!.Encode(row).PromptIds
                    : ModelDirectory.Ids(row.Prompt, tokenizer, policy.Tokens, completion: false, file, row.Line, "prompt"), file, row.Line, "prompt");
                for (int s = 0; s < n; s++) work.Add((index, s, ids, row));
            }
            for (int start = 0; start < work.Count; start += bs)
            {
                var chunk = work.Skip(start).Take(bs).ToList();
                var outs = gen.Generate(chunk.Select(c => c.Ids).ToList(), options with { Seed = options.Seed + (ulong)start });
                for (int i = 0; i < chunk.Count; i++)
                {
                    var ids = outs[i];
                    string text = tokenizer?.Decode(ids, skipSpecialTokens: true) ?? "";
                    var prompt = chunk[i].Row.Prompt;
                    object promptOut = prompt.Messages is { } messages ? messages : prompt.ToString();
                    object completionOut = prompt.IsConversational ? new[] { new Dictionary<string, string> { ["role"] = "assistant", ["content"] = text } } : text;
                    writer.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["index"] = chunk[i].Index, ["sample"] = chunk[i].Sample, ["prompt"] = promptOut,
                        ["completion"] = completionOut, ["completion_ids"] = ids,
                    }));
                }
            }
            outFile.Commit();
            foreach (var line in limits.Report()) Console.Error.WriteLine(line);
            Console.Error.WriteLine($"wrote {work.Count} completions to {outPath}");
            return 0;
        });
        return cmd;
    }
}
