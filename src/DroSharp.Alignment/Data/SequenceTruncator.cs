namespace DroSharp.Alignment.Data;

/// <summary>
/// Applies <c>--max-prompt-length</c> (a prompt keeps its END: the question nearest the answer) and
/// <c>--max-completion-length</c> (a completion keeps its START), counting every cut. A null limit means none.
/// Special tokens survive a cut, as Hugging Face tokenizers' truncation keeps them: a prompt that starts with the
/// model's BOS keeps it in front of its end, and a completion that ends with an end-of-sequence id keeps it after
/// its start (the model still learns where to stop).
/// </summary>
public sealed class SequenceTruncator
{
    private int _prompts, _promptsCut, _completions, _completionsCut;
    private long _promptDropped, _completionDropped;

    private readonly int? _bos;
    private readonly IReadOnlyList<int> _endIds;

    /// <param name="bosId">An id kept at the start of a cut prompt when it is there (null: none).</param>
    /// <param name="endIds">Ids kept at the end of a cut completion when one is there (EOS).</param>
    public SequenceTruncator(int? maxPromptLength, int? maxCompletionLength, int? bosId = null, IReadOnlyList<int>? endIds = null)
    {
        _bos = bosId;
        _endIds = endIds ?? [];
        if (maxPromptLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxPromptLength), maxPromptLength, "the maximum prompt length must be at least 1");
        if (maxCompletionLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxCompletionLength), maxCompletionLength, "the maximum completion length must be at least 1");
        MaxPromptLength = maxPromptLength;
        MaxCompletionLength = maxCompletionLength;
    }

    public int? MaxPromptLength { get; }

    public int? MaxCompletionLength { get; }

    /// <summary>The last <see cref="MaxPromptLength"/> ids, a leading BOS kept (the same array when nothing is cut).</summary>
    public int[] TruncatePrompt(int[] ids)
    {
        _prompts++;
        if (MaxPromptLength is not int max || ids.Length <= max) return ids;
        _promptsCut++;
        _promptDropped += ids.Length - max;
        if (max >= 2 && _bos is int bos && ids[0] == bos) return [bos, .. ids[^(max - 1)..]];
        return ids[^max..];
    }

    /// <summary>The first <see cref="MaxCompletionLength"/> ids, a trailing EOS kept (the same array when nothing is cut).</summary>
    public int[] TruncateCompletion(int[] ids)
    {
        _completions++;
        if (MaxCompletionLength is not int max || ids.Length <= max) return ids;
        _completionsCut++;
        _completionDropped += ids.Length - max;
        if (max >= 2 && _endIds.Contains(ids[^1])) return [.. ids[..(max - 1)], ids[^1]];
        return ids[..max];
    }

    public TruncationCounts Counts => new(_prompts, _promptsCut, _promptDropped, _completions, _completionsCut, _completionDropped);
}
