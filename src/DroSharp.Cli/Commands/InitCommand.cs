using System.CommandLine;
using DroSharp.Models.T5;
using DroSharp.Tensors;
using DroSharp.Text;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro init</c>: a freshly initialised T5 written as a Hugging Face model directory.</summary>
public static class InitCommand
{
    public static Command Create()
    {
        var preset = new Option<string?>("--preset") { Description = $"A named configuration: {string.Join(", ", T5Presets.Names)}." };
        var config = new Option<string?>("--config") { Description = "A config.json (T5Config keys) instead of a preset." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer.json to ship with the model; the vocabulary size and pad/eos ids are taken from it." };
        var output = new Option<string>("--out") { Description = "Output directory (config.json, model.safetensors, tokenizer.json).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialisation.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("init", "Write a new T5 with Hugging Face's initialisation as an HF model directory.");
        foreach (var o in new Option[] { preset, config, tokenizer, output, seed }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string? p = parse.GetValue(preset), c = parse.GetValue(config), t = parse.GetValue(tokenizer);
            string outDir = parse.GetValue(output)!;
            if ((p is null) == (c is null)) throw new UserErrorException("give exactly one of --preset and --config");
            Tokenizer? tok = null;
            if (t is not null)
            {
                if (!File.Exists(t)) throw new UserErrorException($"tokenizer file {t} does not exist");
                try { tok = Tokenizer.FromFile(t); }
                catch (Exception e) when (e is FormatException or IOException) { throw new UserErrorException(e.Message); }
            }
            T5Config cfg;
            if (p is not null)
            {
                if (!T5Presets.TryGet(p, out cfg, tok?.VocabSize)) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", T5Presets.Names)}");
            }
            else
            {
                cfg = T5Config.Load(c!);
                if (tok is not null) cfg.VocabSize = tok.VocabSize;
            }
            if (tok is not null)
            {
                if (tok.PadId is int pad) { cfg.PadTokenId = pad; cfg.DecoderStartTokenId = pad; }
                if (tok.EosId is int eos) cfg.EosTokenId = eos;
            }
            cfg.DecoderStartTokenId ??= cfg.PadTokenId ?? 0;
            using var model = new T5ForConditionalGeneration(cfg);
            model.InitializeWeights(new DeterministicRandom(parse.GetValue(seed)));
            T5ModelFiles.SavePolicy(model, outDir);
            if (t is not null) File.Copy(t, Path.Combine(outDir, "tokenizer.json"), overwrite: true);
            Console.WriteLine($"wrote {outDir}: {model.Parameters.ElementCount:N0} parameters ({cfg.NumLayers}+{cfg.NumDecoderLayers} layers, d_model {cfg.DModel}, vocab {cfg.VocabSize})");
            return 0;
        });
        return cmd;
    }
}
