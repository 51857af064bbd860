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
            Description = "JSON-lines training texts: a \"text\" field, or \"prompt\" and \"completion\" fields.",
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

        var cmd = new Command("train", "Train a tokenizer with T5's conventions (pad 0 = decoder start, eos </s> 1 appended, unk 2) and write tokenizer.json.");
        cmd.Options.Add(type);
        cmd.Options.Add(vocabSize);
        cmd.Options.Add(data);
        cmd.Options.Add(output);
        cmd.Options.Add(minFrequency);
        cmd.Options.Add(lowercase);
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
                ? TokenizerTrainer.TrainByteLevelBpe(texts, size, minFreq)
                : TokenizerTrainer.TrainWordLevel(texts, size, minFreq, lower);
            double trainSeconds = watch.Elapsed.TotalSeconds;
            try
            {
                tokenizer.Save(outFile.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserErrorException($"--out: cannot write {outFile.FullName} ({e.Message})");
            }
            Console.WriteLine($"trained {kind} tokenizer on {texts.Count} texts in {trainSeconds:F2} s: vocab size {tokenizer.VocabSize} " +
                $"(requested {size}); pad {tokenizer.PadId}, eos {tokenizer.EosId}, unk {tokenizer.UnkId}; wrote {outFile.FullName}");
            return 0;
        });
        return cmd;
    }
}
