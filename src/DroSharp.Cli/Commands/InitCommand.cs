using System.CommandLine;
using System.Text;
using DroSharp.Models;
using DroSharp.Tensors;
using DroSharp.Text;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro init</c>: a freshly initialised model of any family written as a Hugging Face model directory.</summary>
public static class InitCommand
{
    public static Command Create()
    {
        var preset = new Option<string?>("--preset") { Description = $"A named configuration: {string.Join(", ", ModelFamilies.PresetNames)}." };
        var config = new Option<string?>("--config") { Description = "A config.json (any supported model_type) instead of a preset." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer.json to ship with the model; the vocabulary size and special ids are taken from it." };
        var output = new Option<string>("--out") { Description = "Output directory (config.json, model.safetensors, tokenizer.json).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialisation.", DefaultValueFactory = _ => 0 };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty --out directory (its old files, tokenizer included, are removed)." };
        var cmd = new Command("init", "Write a new model with Hugging Face's initialisation as an HF model directory.");
        foreach (var o in new Option[] { preset, config, tokenizer, output, seed, force }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string? p = parse.GetValue(preset), c = parse.GetValue(config), t = parse.GetValue(tokenizer);
            string outDir = parse.GetValue(output)!;
            if ((p is null) == (c is null)) throw new UserErrorException("give exactly one of --preset and --config");
            ModelOutputDirectory.Check(outDir, parse.GetValue(force));
            Tokenizer? tok = null;
            if (t is not null)
            {
                if (!File.Exists(t)) throw new UserErrorException($"tokenizer file {t} does not exist");
                try { tok = Tokenizer.FromFile(t); }
                catch (Exception e) when (e is FormatException or IOException) { throw new UserErrorException(e.Message); }
            }
            IModelFamily family;
            IModelConfig cfg;
            if (p is not null)
            {
                if (ModelFamilies.ForPreset(p) is null) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", ModelFamilies.PresetNames)}");
                (family, cfg) = ModelFamilies.Preset(p);
            }
            else
            {
                if (!File.Exists(c)) throw new UserErrorException($"config file {c} does not exist");
                (family, cfg) = ModelFamilies.ParseConfig(File.ReadAllText(c!, Encoding.UTF8), c!);
            }
            if (tok is not null)
            {
                try { cfg.UseTokenizer(new TokenizerIds(tok.VocabSize, tok.PadId, tok.EosId, tok.BosId)); }
                catch (ArgumentException e) { throw new UserErrorException($"{t}: {e.Message}"); }
            }
            ModelMemory.RequireFits(cfg, p is not null ? $"preset {p}" : c!);
            using var model = family.CreatePolicy(cfg);
            model.InitializeWeights(new DeterministicRandom(parse.GetValue(seed)));
            ModelOutputDirectory.Write(outDir, dir =>
            {
                model.Save(dir);
                if (t is not null) File.Copy(t, Path.Combine(dir, "tokenizer.json"), overwrite: true);
            });
            Console.WriteLine($"wrote {outDir}: {model.Parameters.ElementCount:N0} parameters ({cfg})");
            return 0;
        });
        return cmd;
    }
}
