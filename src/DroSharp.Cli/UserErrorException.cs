namespace DroSharp.Cli;

/// <summary>A mistake in the user's input or options: printed as one line on stderr, exit code 1, no stack trace.</summary>
public sealed class UserErrorException(string message) : Exception(message);
