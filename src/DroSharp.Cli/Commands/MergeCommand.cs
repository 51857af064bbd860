using System.CommandLine;
using DroSharp.Models.Lora;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro merge</c>: a PEFT LoRA adapter folded into its base, written as a plain Hugging Face model.</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var adapter = new Option<string>("--adapter") { Description = "PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors), e.g. RUN/final.", Required = true };
        var baseDir = new Option<string?>("--base") { Description = "Base model directory [default: the adapter's base_model_name_or_path]." };
        var output = new Option<string>("--out") { Description = "Directory for the merged model (config.json, model.safetensors in float32, the base's tokenizer files).", Required = true };
        var cmd = new Command("merge", "Fold a LoRA adapter into its base (W + scale·B·A, as PEFT's merge_and_unload) and write an HF model directory that transformers loads like the base.");
        foreach (var o in new Option[] { adapter, baseDir, output }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string a = parse.GetValue(adapter)!, o = parse.GetValue(output)!;
            if (!PeftAdapterFiles.IsAdapterDirectory(a)) throw new UserErrorException($"{a} is not a LoRA adapter directory (no {PeftAdapterConfig.FileName})");
            try
            {
                var (b, modules) = LoraMerge.Merge(a, parse.GetValue(baseDir), o);
                Console.Error.WriteLine($"merged {modules} adapted modules of {a} into {b}; wrote {o}");
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException(e.Message);
            }
            return 0;
        });
        return cmd;
    }
}
