using System.CommandLine;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro export gguf</c>: a model directory in another runtime's format.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var cmd = new Command("export", "Write a model directory in a format other runtimes load (gguf: llama.cpp, LLamaSharp, Ollama).");
        cmd.Subcommands.Add(ExportGgufCommand.Create());
        return cmd;
    }
}
