using System.CommandLine;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro tokenizer train|encode</c>: build and inspect tokenizer.json files.</summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var cmd = new Command("tokenizer", "Train a tokenizer (word-level or byte-level BPE) with T5's special tokens, or encode text with a tokenizer.json.");
        cmd.Subcommands.Add(TokenizerTrainCommand.Create());
        cmd.Subcommands.Add(TokenizerEncodeCommand.Create());
        return cmd;
    }
}
