namespace DroSharp.Alignment.Data;

/// <summary>
/// Applies <c>--max-prompt-length</c> (a prompt keeps its END: the question nearest the answer) and
/// <c>--max-completion-length</c> (a completion keeps its START), counting every cut. A null limit means none.
/// Limits apply to the ids exactly as given, special tokens included: a cut completion loses its end-of-sequence
/// token like any other.
/// </summary>
public sealed class SequenceTruncator
{
    private int _prompts, _promptsCut, _completions, _completionsCut;
    private long _promptDropped, _completionDropped;

    public SequenceTruncator(int? maxPromptLength, int? maxCompletionLength)
    {
        if (maxPromptLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxPromptLength), maxPromptLength, "the maximum prompt length must be at least 1");
        if (maxCompletionLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxCompletionLength), maxCompletionLength, "the maximum completion length must be at least 1");
        MaxPromptLength = maxPromptLength;
        MaxCompletionLength = maxCompletionLength;
    }

    public int? MaxPromptLength { get; }

    public int? MaxCompletionLength { get; }

    /// <summary>The last <see cref="MaxPromptLength"/> ids (the same array when nothing is cut).</summary>
    public int[] TruncatePrompt(int[] ids)
    {
        _prompts++;
        if (MaxPromptLength is not int max || ids.Length <= max) return ids;
        _promptsCut++;
        _promptDropped += ids.Length - max;
        return ids[^max..];
    }

    /// <summary>The first <see cref="MaxCompletionLength"/> ids (the same array when nothing is cut).</summary>
    public int[] TruncateCompletion(int[] ids)
    {
        _completions++;
        if (MaxCompletionLength is not int max || ids.Length <= max) return ids;
        _completionsCut++;
        _completionDropped += ids.Length - max;
        return ids[..max];
    }

    public TruncationCounts Counts => new(_prompts, _promptsCut, _promptDropped, _completions, _completionsCut, _completionDropped);
}
