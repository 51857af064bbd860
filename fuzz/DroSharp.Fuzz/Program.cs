using SharpFuzz;

namespace DroSharp.Fuzz;

/// <summary>
/// <c>dotnet DroSharp.Fuzz.dll TARGET</c>: the AFL++ persistent-mode driver (SharpFuzz); <c>--list</c>: the targets;
/// <c>--replay TARGET FILE...</c>: runs files (e.g. AFL's crashes/) through a target and prints what escapes;
/// <c>--write-seeds REPO OUT</c>: writes the seed corpora from the repository's test fixtures.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "--list")
        {
            foreach (var t in FuzzTargets.All) Console.WriteLine($"{t.Name}\t{t.Input}");
            return 0;
        }
        if (args.Length == 3 && args[0] == "--write-seeds")
        {
            SeedCorpus.Write(args[1], args[2]);
            return 0;
        }
        if (args.Length >= 2 && args[0] == "--replay")
        {
            var target = FuzzTargets.Get(args[1]);
            int failures = 0;
            foreach (var file in args.Skip(2))
            {
                try
                {
                    target.Run(File.ReadAllBytes(file));
                    Console.WriteLine($"ok    {file}");
                }
                catch (Exception e)
                {
                    failures++;
                    Console.WriteLine($"CRASH {file}\n{e}");
                }
            }
            return failures == 0 ? 0 : 1;
        }
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: DroSharp.Fuzz TARGET | --list | --replay TARGET FILE...");
            return 2;
        }
        var run = FuzzTargets.Get(args[0]).Run;
        Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            run(buffer.ToArray());
        });
        return 0;
    }
}
