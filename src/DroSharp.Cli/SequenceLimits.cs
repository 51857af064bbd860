using DroSharp.Alignment.Data;
using DroSharp.Models;

namespace DroSharp.Cli;

/// <summary>
/// What <c>score</c> and <c>generate</c> check and cut before a forward pass, as <c>train</c> does: ids inside the
/// model's vocabulary, prompts cut to their last <c>--max-prompt-length</c> tokens (BOS kept), completions to their
/// first <c>--max-completion-length</c> (EOS kept), with a count of what was cut on stderr.
/// </summary>
internal sealed class SequenceLimits(IPolicyModel model, int? maxPromptLength, int? maxCompletionLength)
{
    private readonly SequenceTruncator _truncator = new(maxPromptLength, maxCompletionLength, model.Tokens.BosId, model.Tokens.StopIds);

    public static void RequirePositive(int? value, string option)
    {
        if (value is < 1) throw new UserErrorException($"{option} must be at least 1, not {value}");
    }

    public int[] Prompt(int[] ids, string file, int line, string field) => _truncator.TruncatePrompt(InVocabulary(ids, file, line, field));

    public int[] Completion(int[] ids, string file, int line, string field) => _truncator.TruncateCompletion(InVocabulary(ids, file, line, field));

    private int[] InVocabulary(int[] ids, string file, int line, string field)
    {
        int vocab = model.Config.VocabSize;
        for (int k = 0; k < ids.Length; k++)
            if (ids[k] < 0 || ids[k] >= vocab)
                throw new UserErrorException($"{file}:{line}: field '{field}': token id {ids[k]} (position {k}) is outside the model's vocabulary of {vocab} tokens");
        if (ids.Length == 0) throw new UserErrorException($"{file}:{line}: field '{field}' encodes to no tokens");
        return ids;
    }

    /// <summary>"truncated 3 of 10 prompts (…)" lines for stderr; none when nothing was cut.</summary>
    public IEnumerable<string> Report()
    {
        var c = _truncator.Counts;
        if (c.PromptsTruncated > 0)
            yield return $"truncated {c.PromptsTruncated} of {c.Prompts} prompts to their last {_truncator.MaxPromptLength} tokens (--max-prompt-length; {c.PromptTokensDropped} tokens dropped)";
        if (c.CompletionsTruncated > 0)
            yield return $"truncated {c.CompletionsTruncated} of {c.Completions} completions to their first {_truncator.MaxCompletionLength} tokens (--max-completion-length; {c.CompletionTokensDropped} tokens dropped)";
    }
}
