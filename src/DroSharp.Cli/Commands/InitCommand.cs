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
        var chatTemplate = new Option<string?>("--chat-template")
        {
            Description = "A Jinja chat template file: written into tokenizer_config.json (chat_template) with the special tokens, as transformers saves a chat model.",
        };
        var eosToken = new Option<string?>("--eos-token")
        {
            Description = "The end-of-sequence token (for a chat model its end-of-turn token, e.g. <|im_end|>): tokenizer_config.json's eos_token and config.json's eos_token_id, so generation stops there.",
        };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty --out directory (its old files, tokenizer included, are removed)." };
        var cmd = new Command("init", "Write a new model with Hugging Face's initialisation as an HF model directory.");
        foreach (var o in new Option[] { preset, config, tokenizer, output, seed, chatTemplate, eosToken, force }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string? p = parse.GetValue(preset), c = parse.GetValue(config), t = parse.GetValue(tokenizer);
            string outDir = parse.GetValue(output)!;
            if ((p is null) == (c is null)) throw new UserErrorException("give exactly one of --preset and --config");
            string? templateFile = parse.GetValue(chatTemplate), eos = parse.GetValue(eosToken);
            if ((templateFile is not null || eos is not null) && t is null) throw new UserErrorException("--chat-template and --eos-token need --tokenizer");
            string? templateText = null;
            if (templateFile is not null)
            {
                if (!File.Exists(templateFile)) throw new UserErrorException($"--chat-template: {templateFile} does not exist");
                templateText = File.ReadAllText(templateFile, Encoding.UTF8);
                try { _ = new Text.Templates.ChatTemplate(templateText, sourceName: templateFile); }
                catch (Text.Templates.ChatTemplateException e) { throw new UserErrorException($"--chat-template: {e.Message}"); }
            }
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
                int? eosId = tok.EosId;
                if (eos is not null) eosId = tok.TokenToId(eos) ?? throw new UserErrorException($"--eos-token: {eos} is not a token of {t}");
                try { cfg.UseTokenizer(new TokenizerIds(tok.VocabSize, tok.PadId, eosId, tok.BosId)); }
                catch (ArgumentException e) { throw new UserErrorException($"{t}: {e.Message}"); }
            }
            ModelMemory.RequireFits(cfg, p is not null ? $"preset {p}" : c!);
            using var model = family.CreatePolicy(cfg);
            model.InitializeWeights(new DeterministicRandom(parse.GetValue(seed)));
            ModelOutputDirectory.Write(outDir, dir =>
            {
                model.Save(dir);
                if (t is not null) File.Copy(t, Path.Combine(dir, "tokenizer.json"), overwrite: true);
                if (templateText is not null || eos is not null)
                {
                    string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(t!)) ?? ".", "tokenizer_config.json");
                    TokenizerConfigFile.Write(dir, tok!, File.Exists(beside) ? beside : null, templateText, eos);
                }
            });
            Console.WriteLine($"wrote {outDir}: {model.Parameters.ElementCount:N0} parameters ({cfg})");
            return 0;
        });
        return cmd;
    }
}
