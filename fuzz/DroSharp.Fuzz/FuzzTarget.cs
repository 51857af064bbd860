namespace DroSharp.Fuzz;

/// <summary>
/// One fuzz target: a parser of a user file driven with arbitrary bytes. <see cref="Run"/> returns normally for
/// input the parser accepts and for input it rejects with its documented error (the exception types the CLI turns
/// into one-line messages); any other exception escapes and is a finding (a crash to fix).
/// </summary>
/// <param name="Name">The name given to <c>fuzz/run.sh</c>, also the folder of its seed corpus under <c>fuzz/seeds/</c>.</param>
/// <param name="Input">What the bytes are (the file they stand for).</param>
/// <param name="Run">Parses (and, when accepted, uses) the bytes.</param>
public sealed record FuzzTarget(string Name, string Input, Action<byte[]> Run);
