namespace DroSharp.Alignment.Data;

/// <summary>One preference pair: a prompt, the preferred response and the other one; from line <see cref="Line"/>.</summary>
public sealed record PreferencePair(TextOrIds Prompt, TextOrIds Chosen, TextOrIds Rejected, int Line);
