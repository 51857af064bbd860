using System.CommandLine;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro gguf inspect</c>: look inside GGUF files.</summary>
public static class GgufCommand
{
    public static Command Create()
    {
        var cmd = new Command("gguf", "Inspect GGUF files (llama.cpp's model format).");
        cmd.Subcommands.Add(GgufInspectCommand.Create());
        return cmd;
    }
}
