namespace DroSharp.Text.PreTokenizers;

/// <summary>What happens to the matched delimiters when splitting (HF <c>SplitDelimiterBehavior</c>).</summary>
internal enum SplitBehavior
{
    /// <summary>Delimiters are dropped.</summary>
    Removed,
    /// <summary>Each delimiter is its own piece.</summary>
    Isolated,
    /// <summary>A delimiter is appended to the piece before it.</summary>
    MergedWithPrevious,
    /// <summary>A delimiter is prepended to the piece after it.</summary>
    MergedWithNext,
    /// <summary>Consecutive delimiters form one piece.</summary>
    Contiguous,
}
