using System.CommandLine;
using System.Diagnostics;
using DroSharp.Text;
using DroSharp.Text.Training;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro tokenizer train --type wordlevel|bpe --vocab-size N --data FILE --out tokenizer.json</c>.</summary>
public static class TokenizerTrainCommand
{
    public static Command Create()
    {
        var type = new Option<string>("--type")
        {
            Description = "wordlevel (most frequent words and punctuation runs) or bpe (byte-level BPE, GPT-2 style).",
            Required = true,
        };
        type.AcceptOnlyFromAmong("wordlevel", "bpe");
        var vocabSize = new Option<int>("--vocab-size")
        {
            Description = "Vocabulary size including the special tokens <pad> (0), </s> (1), <unk> (2); bpe needs at least 259.",
            DefaultValueFactory = _ => 8000,
        };
        var data = new Option<FileInfo>("--data")
        {
            Description = "JSON-lines training texts: a \"text\" field, \"prompt\" and \"completion\" fields, \"messages\", or \"chosen\" and \"rejected\" (strings, or chat messages whose contents are taken).",
            Required = true,
        };
        var output = new Option<FileInfo>("--out")
        {
            Description = "Where to write tokenizer.json.",
            DefaultValueFactory = _ => new FileInfo("tokenizer.json"),
        };
        var minFrequency = new Option<int>("--min-frequency")
        {
            Description = "Words (wordlevel) or pairs (bpe) seen fewer times are not added.",
            DefaultValueFactory = _ => 2,
        };
        var lowercase = new Option<bool>("--lowercase") { Description = "wordlevel only: lowercase the text before counting and encoding." };
        var specialTokens = new Option<string?>("--special-tokens")
        {
            Description = "Extra special tokens, comma-separated, e.g. \"<|im_start|>,<|im_end|>\" for a chat template: ids 3, 4, … after <unk>, matched whole in the text, never split.",
        };

        var conventions = new Option<string>("--for")
        {
            Description = "The model family's conventions: t5 (</s> appended to every text) or decoder (<s> = 3 in front of every text, as Llama's tokenizer; completions end with </s> in training).",
            DefaultValueFactory = _ => "t5",
        };
        conventions.AcceptOnlyFromAmong("t5", "decoder");

        var cmd = new Command("train", "Train a tokenizer (pad <pad> 0, eos </s> 1, unk <unk> 2; with --for decoder also bos <s> 3) and write tokenizer.json.");
        cmd.Options.Add(conventions);
        cmd.Options.Add(type);
        cmd.Options.Add(vocabSize);
        cmd.Options.Add(data);
        cmd.Options.Add(output);
        cmd.Options.Add(minFrequency);
        cmd.Options.Add(lowercase);
        cmd.Options.Add(specialTokens);
        cmd.SetAction(parse =>
        {
            string kind = parse.GetValue(type)!;
            int size = parse.GetValue(vocabSize);
            var dataFile = parse.GetValue(data)!;
            var outFile = parse.GetValue(output)!;
            int minFreq = parse.GetValue(minFrequency);
            bool lower = parse.GetValue(lowercase);

            if (!dataFile.Exists) throw new UserErrorException($"--data: {dataFile.FullName} does not exist");
            OutputFile.RefuseInput(outFile.FullName, "--out", ("--data", dataFile.FullName));
            if (minFreq < 1) throw new UserErrorException("--min-frequency must be at least 1");
            if (kind == "bpe" && size < 259) throw new UserErrorException($"--vocab-size {size}: byte-level BPE needs at least 259 (3 special tokens + 256 bytes)");
            if (kind == "wordlevel" && size < 4) throw new UserErrorException($"--vocab-size {size}: a word-level vocabulary needs at least 4");
            if (lower && kind != "wordlevel") throw new UserErrorException("--lowercase applies to --type wordlevel only");
            var extra = (parse.GetValue(specialTokens) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var style = parse.GetValue(conventions) == "decoder" ? TokenizerConventions.Decoder : TokenizerConventions.T5;
            var repeated = extra.Concat([TokenizerTrainer.Pad, TokenizerTrainer.Eos, TokenizerTrainer.Unk, .. style == TokenizerConventions.Decoder ? [TokenizerTrainer.Bos] : Array.Empty<string>()]).GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null) throw new UserErrorException($"--special-tokens: \"{repeated.Key}\" appears twice (or is one of <pad>, </s>, <unk>, which are always there)");
            if (kind == "bpe" && size < 259 + extra.Length) throw new UserErrorException($"--vocab-size {size}: byte-level BPE with {extra.Length} extra special tokens needs at least {259 + extra.Length}");
            if (kind == "wordlevel" && size < 4 + extra.Length) throw new UserErrorException($"--vocab-size {size}: a word-level vocabulary with {extra.Length} extra special tokens needs at least {4 + extra.Length}");

            List<string> texts;
            try
            {
                texts = TrainingTexts.ReadJsonl(dataFile.FullName).ToList();
            }
            catch (FormatException e)
            {
                throw new UserErrorException(e.Message);
            }
            if (texts.Count == 0) throw new UserErrorException($"--data: {dataFile.FullName} has no texts");

            var watch = Stopwatch.StartNew();
            Tokenizer tokenizer = kind == "bpe"
                ? TokenizerTrainer.TrainByteLevelBpe(texts, size, minFreq, extra, style)
                : TokenizerTrainer.TrainWordLevel(texts, size, minFreq, lower, extra, style);
            double trainSeconds = watch.Elapsed.TotalSeconds;
            try
            {
                tokenizer.Save(outFile.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserErrorException($"--out: cannot write {outFile.FullName} ({e.Message})");
            }
            string specials = extra.Length == 0 ? "" : "; " + string.Join(", ", extra.Select(t => $"{t} {tokenizer.TokenToId(t)}"));
            Console.WriteLine($"trained {kind} tokenizer on {texts.Count} texts in {trainSeconds:F2} s: vocab size {tokenizer.VocabSize} " +
                $"(requested {size}); pad {tokenizer.PadId}, eos {tokenizer.EosId}, unk {tokenizer.UnkId}{(tokenizer.BosId is int bos ? $", bos {bos}" : "")}{specials}; wrote {outFile.FullName}");
            return 0;
        });
        return cmd;
    }
}
