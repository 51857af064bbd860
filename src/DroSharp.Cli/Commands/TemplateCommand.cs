using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro template --model DIR --data FILE [--out FILE]</c>: for every row, exactly what the model will see in
/// training — the text given to the tokenizer (the chat template's rendering for conversational rows, split into
/// prompt and completion as TRL splits it) and the token ids after dro train's truncation — one JSON line per row.
/// </summary>
public static class TemplateCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var defaults = new TrainingOptions();
        var model = new Option<string>("--model") { Description = "HF model directory (tokenizer.json; chat template in tokenizer_config.json or chat_template.jinja).", Required = true };
        var data = new Option<string>("--data") { Description = "A data file as dro train (or dro generate --prompts) reads it: JSONL/CSV, plain or conversational rows.", Required = true };
        var output = new Option<string?>("--out")
        {
            Description = "Output JSONL (default: standard output): per row line, prompt_text, completion_text, prompt_ids, completion_ids "
                          + "(for pairs chosen_* and rejected_*); texts are the tokenizer's input (ids given verbatim are decoded), ids are after truncation.",
        };
        var maxPrompt = new Option<int?>("--max-prompt-length") { Description = $"As dro train: keep the last N prompt tokens [default: {defaults.MaxPromptLength}].", DefaultValueFactory = _ => defaults.MaxPromptLength };
        var maxCompletion = new Option<int?>("--max-completion-length") { Description = $"As dro train: keep the first N completion tokens [default: {defaults.MaxCompletionLength}].", DefaultValueFactory = _ => defaults.MaxCompletionLength };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "Leave bad rows out (listed on standard error) instead of stopping." };
        var chatTemplate = ChatTemplateOptions.Template();
        var chatKwargs = ChatTemplateOptions.Kwargs();
        var cmd = new Command("template", "Show exactly what the model sees for each row of a data file: the rendered prompt and completion text and their token ids.");
        foreach (var o in new Option[] { model, data, output, chatTemplate, chatKwargs, maxPrompt, maxCompletion, skip }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!, file = parse.GetValue(data)!;
            string? outPath = parse.GetValue(output);
            int? mp = parse.GetValue(maxPrompt), mc = parse.GetValue(maxCompletion);
            if (mp is < 1 || mc is < 1) throw new UserErrorException("--max-prompt-length and --max-completion-length must be at least 1");
            bool skipBad = parse.GetValue(skip);
            using var policy = ModelDirectory.LoadPolicy(dir);
            var tokenizer = ModelDirectory.LoadTokenizer(dir);
            var template = ChatTemplateOptions.Load(dir, parse.GetValue(chatTemplate));
            var encoder = ModelDirectory.Encoder(tokenizer, policy.Tokens, template, ChatTemplateOptions.ParseKwargs(parse.GetValue(chatKwargs)));
            var rowEncoder = new RowEncoder(encoder, file, policy.Config.VocabSize);
            var truncator = new SequenceTruncator(mp, mc, policy.Tokens.BosId, policy.Tokens.StopIds);
            var read = new FeedbackReadOptions { SkipBadRows = skipBad };

            // Rows as dro train reads them (any kind; pairs stay pairs), or a prompts-only file as dro generate reads it.
            var items = new List<(Func<EncodedRow> Encode, string[] Responses, Dictionary<string, object?> Extra)>();
            IReadOnlyList<SkippedRow> skippedOnRead;
            try
            {
                var dataset = FeedbackFileReader.Read(file, read);
                rowEncoder.RequireConversationSupport(dataset);
                skippedOnRead = dataset.SkippedRows;
                if (dataset.Kind == DatasetKind.PreferencePairs)
                    foreach (var p in dataset.Pairs) items.Add((() => rowEncoder.Encode(p), ["chosen", "rejected"], []));
                else
                    foreach (var x in dataset.Examples)
                        items.Add((() => rowEncoder.Encode(x), ["completion"], new Dictionary<string, object?> { ["label"] = x.Label, ["reward"] = x.Reward }));
            }
            catch (DataFormatException e) when (e.Kind == DataErrorKind.UnsupportedLayout && e.Line is not null)
            {
                PromptFile prompts;
                try { prompts = FeedbackFileReader.ReadPrompts(file, read); }
                catch (DataFormatException) { throw e; }
                skippedOnRead = prompts.SkippedRows;
                foreach (var p in prompts.Prompts) items.Add((() => rowEncoder.Encode(p), [], []));
            }

            var skipped = new List<SkippedRow>(skippedOnRead);
            int written = 0, conversational = 0, promptsCut = 0, mismatches = 0;
            using var writer = outPath is null ? null : new StreamWriter(outPath);
            var sink = writer ?? Console.Out;
            foreach (var (encode, responses, extra) in items)
            {
                EncodedRow row;
                try { row = encode(); }
                catch (DataFormatException e) when (skipBad)
                {
                    skipped.Add(new SkippedRow(file, e.Line ?? 0, e.Field, e.Kind, e.Reason));
                    continue;
                }
                if (row.Conversational) conversational++;
                if (row.PromptCharsDropped > 0) promptsCut++;
                if (!row.SplitMatchesWhole) mismatches++;
                string? Text(string? text, int[] ids) => text ?? tokenizer?.Decode(ids, skipSpecialTokens: false);
                var line = new Dictionary<string, object?> { ["line"] = row.Line, ["prompt_text"] = Text(row.PromptText, row.PromptIds) };
                for (int i = 0; i < responses.Length; i++) line[$"{responses[i]}_text"] = Text(row.ResponseTexts[i], row.ResponseIds[i]);
                line["prompt_ids"] = truncator.TruncatePrompt(row.PromptIds);
                for (int i = 0; i < responses.Length; i++) line[$"{responses[i]}_ids"] = truncator.TruncateCompletion(row.ResponseIds[i]);
                foreach (var (k, v) in extra) if (v is not null) line[k] = v;
                sink.WriteLine(JsonSerializer.Serialize(line, Json));
                written++;
            }
            sink.Flush();

            var log = Console.Error;
            foreach (var s in skipped) log.WriteLine($"skipped: {s}");
            var t = truncator.Counts;
            log.WriteLine($"{written} rows{(outPath is null ? "" : $" written to {outPath}")}"
                + (conversational > 0 ? $"; {conversational} conversational, rendered with {template?.SourceName}" : "")
                + $"; truncated {t.PromptsTruncated} prompts (--max-prompt-length {mp?.ToString() ?? "none"}) and {t.CompletionsTruncated} completions (--max-completion-length {mc?.ToString() ?? "none"})"
                + (skipped.Count > 0 ? $"; {skipped.Count} bad rows skipped" : ""));
            if (promptsCut > 0) log.WriteLine($"warning: in {promptsCut} rows the template renders the prompt differently inside the whole conversation; the prompt was cut to the common prefix (TRL's rule)");
            if (mismatches > 0) log.WriteLine($"warning: in {mismatches} rows prompt tokens followed by completion tokens differ from the tokens of the whole conversation");
            return 0;
        });
        return cmd;
    }
}
