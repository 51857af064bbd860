using System.Text;

namespace DroSharp.Cli.Tests;

/// <summary>Runs <c>dro</c> in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter(new StringBuilder());
        var e = new StringWriter(new StringBuilder());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = Program.Main(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    public static string Ok(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, $"dro {string.Join(' ', args)} exited {code}\nstdout: {output}\nstderr: {error}");
        return output;
    }
}
