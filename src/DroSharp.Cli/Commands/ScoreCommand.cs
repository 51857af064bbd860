using System.CommandLine;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Models;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro score</c>: log π(completion | prompt) for every row of a data file.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "HF model directory.", Required = true };
        var data = new Option<string>("--data") { Description = "JSONL or CSV with prompt and completion (text, encoded with the model's tokenizer: T5 ends it with </s>, a decoder-only model's completion gets its EOS), or prompt_ids and completion_ids (used verbatim), or chat messages (rendered with the chat template and split as in training).", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSONL: {\"index\", \"logprob\", \"num_tokens\"} per row.", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Rows scored together.", DefaultValueFactory = _ => 8 };
        var chatTemplate = ChatTemplateOptions.Template();
        var chatKwargs = ChatTemplateOptions.Kwargs();
        var maxPrompt = new Option<int?>("--max-prompt-length") { Description = "Cut prompts to their last N tokens, as train does. [default: 512]", DefaultValueFactory = _ => 512 };
        var maxCompletion = new Option<int?>("--max-completion-length") { Description = "Cut completions to their first N tokens (num_tokens counts what was scored). [default: 512]", DefaultValueFactory = _ => 512 };
        var cmd = new Command("score", "Sum of the completion tokens' log-probabilities under a model, one line per row.");
        foreach (var o in new Option[] { model, data, output, batch, chatTemplate, chatKwargs, maxPrompt, maxCompletion }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!, file = parse.GetValue(data)!, outPath = parse.GetValue(output)!;
            int bs = parse.GetValue(batch);
            if (bs < 1) throw new UserErrorException("--batch-size must be at least 1");
            SequenceLimits.RequirePositive(parse.GetValue(maxPrompt), "--max-prompt-length");
            SequenceLimits.RequirePositive(parse.GetValue(maxCompletion), "--max-completion-length");
            using var outFile = OutputFile.Create(outPath, "--out", ("--data", file));
            using var policy = ModelDirectory.LoadPolicy(dir);
            var tokenizer = ModelDirectory.LoadTokenizer(dir);
            var limits = new SequenceLimits(policy, parse.GetValue(maxPrompt), parse.GetValue(maxCompletion));
            var dataset = FeedbackFileReader.Read(file).ConvertFor(DataRequirement.Completions, "scoring");
            var rows = dataset.Examples;
            RowEncoder? rowEncoder = null;
            if (dataset.IsConversational)
            {
                rowEncoder = new RowEncoder(ModelDirectory.Encoder(tokenizer, policy.Tokens, ChatTemplateOptions.Load(dir, parse.GetValue(chatTemplate)),
                    ChatTemplateOptions.ParseKwargs(parse.GetValue(chatKwargs))), file, policy.Config.VocabSize);
                rowEncoder.RequireConversationSupport(dataset);
            }
            // A conversation splits into prompt and completion tokens as in training (TRL's rendering); text and ids as before.
            (int[] Prompt, int[] Completion) Encode(FeedbackExample r)
            {
                int[] prompt, completion;
                if (r.Prompt.IsConversational)
                {
                    var e = rowEncoder!.Encode(r);
                    (prompt, completion) = (e.PromptIds, e.ResponseIds[0]);
                }
                else
                    (prompt, completion) = (ModelDirectory.Ids(r.Prompt, tokenizer, policy.Tokens, completion: false, file, r.Line, "prompt"),
                                            ModelDirectory.Ids(r.Completion, tokenizer, policy.Tokens, completion: true, file, r.Line, "completion"));
                return (limits.Prompt(prompt, file, r.Line, "prompt"), limits.Completion(completion, file, r.Line, "completion"));
            }
            var pairs = rows.Select(Encode).ToList();
            foreach (var line in limits.Report()) Console.Error.WriteLine(line);
            var logprobs = policy.ScoreSequences(pairs.Select(p => p.Prompt).ToList(), pairs.Select(p => p.Completion).ToList(), bs);
            for (int i = 0; i < pairs.Count; i++)
                outFile.Writer.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["index"] = i, ["logprob"] = logprobs[i], ["num_tokens"] = pairs[i].Completion.Length }));
            outFile.Commit();
            Console.Error.WriteLine($"scored {pairs.Count} rows into {outPath}");
            return 0;
        });
        return cmd;
    }
}
