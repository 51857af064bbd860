using System.Text;
using DroSharp.Text.Decoders;
using DroSharp.Text.Models;
using DroSharp.Text.Normalizers;
using DroSharp.Text.PreTokenizers;
using DroSharp.Text.Processors;

namespace DroSharp.Text.Training;

/// <summary>
/// Trains small tokenizers that follow T5's conventions: <c>&lt;pad&gt;</c> = 0 (also the decoder start id),
/// <c>&lt;/s&gt;</c> = 1 appended to every encoding by a TemplateProcessing post-processor, <c>&lt;unk&gt;</c> = 2.
/// The result saves as a tokenizer.json that Hugging Face <c>tokenizers</c> loads. Extra special tokens (e.g. a
/// chat template's <c>&lt;|im_start|&gt;</c> and <c>&lt;|im_end|&gt;</c>) take the ids after <c>&lt;unk&gt;</c>, count towards
/// the vocabulary size and are added tokens matched in the raw text, so they never split or merge with words.
/// </summary>
public static class TokenizerTrainer
{
    public const string Pad = "<pad>", Eos = "</s>", Unk = "<unk>";
    private static readonly string[] Specials = [Pad, Eos, Unk];

    /// <summary>
    /// Word-level vocabulary: NFKC (then lowercase if asked), split into words and punctuation runs
    /// (HF <c>Whitespace</c>), the most frequent pieces (ties: code point order) seen at least
    /// <paramref name="minFrequency"/> times; anything else encodes as <c>&lt;unk&gt;</c>. Decoding joins words
    /// with spaces and closes them up before punctuation (WordPiece decoder's cleanup).
    /// </summary>
    public static Tokenizer TrainWordLevel(IEnumerable<string> texts, int vocabSize, int minFrequency = 2, bool lowercase = false,
        IReadOnlyList<string>? extraSpecialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var specials = AllSpecials(extraSpecialTokens);
        if (vocabSize < specials.Count + 1)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), $"a word-level vocabulary needs at least {specials.Count + 1} entries ({specials.Count} special tokens + 1 word)");
        INormalizer normalizer = lowercase
            ? new SequenceNormalizer([new UnicodeNormalizer(NormalizationForm.FormKC), new LowercaseNormalizer()])
            : new UnicodeNormalizer(NormalizationForm.FormKC);
        var preTokenizer = new WhitespacePreTokenizer();
        var counts = WordCounter.Count(texts, normalizer, preTokenizer);

        var vocab = new Dictionary<string, int>();
        foreach (var s in specials) vocab[s] = vocab.Count;
        foreach (var (word, count) in counts
                     .Where(kv => kv.Value >= minFrequency)
                     .OrderByDescending(kv => kv.Value)
                     .ThenBy(kv => kv.Key, Utf16.CodePointComparer))
        {
            if (vocab.Count >= vocabSize) break;
            vocab.TryAdd(word, vocab.Count);
        }
        return Assemble(new WordLevelModel(vocab, Unk), normalizer, preTokenizer, new WordPieceDecoder("##", cleanup: true), specials);
    }

    /// <summary>
    /// Byte-level BPE (GPT-2 style): NFC, GPT-2's split regex, UTF-8 bytes as the 256-character alphabet, so
    /// any text encodes without <c>&lt;unk&gt;</c> and decodes back exactly (up to NFC). The vocabulary is the 3
    /// special tokens, the 256 bytes and up to <c>vocabSize − 259</c> merges.
    /// </summary>
    public static Tokenizer TrainByteLevelBpe(IEnumerable<string> texts, int vocabSize, int minFrequency = 2, IReadOnlyList<string>? extraSpecialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var specials = AllSpecials(extraSpecialTokens);
        int minimum = specials.Count + 256;
        if (vocabSize < minimum)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), $"a byte-level BPE vocabulary needs at least {minimum} entries ({specials.Count} special tokens + 256 bytes)");
        var normalizer = new UnicodeNormalizer(NormalizationForm.FormC);
        var preTokenizer = new ByteLevelPreTokenizer(addPrefixSpace: false, trimOffsets: true, useRegex: true);
        var counts = WordCounter.Count(texts, normalizer, preTokenizer);
        var (vocab, merges) = BpeTrainer.Train(counts, specials, ByteLevelAlphabet.Alphabet(), vocabSize, minFrequency);
        var model = new BpeModel(vocab, merges);
        return Assemble(model, normalizer, preTokenizer, new ByteLevelDecoder(addPrefixSpace: true, trimOffsets: true, useRegex: true), specials);
    }

    /// <summary>&lt;pad&gt;, &lt;/s&gt;, &lt;unk&gt;, then the extra special tokens (non-empty, distinct, not one of the three).</summary>
    private static List<string> AllSpecials(IReadOnlyList<string>? extra)
    {
        var all = new List<string>(Specials);
        foreach (var t in extra ?? [])
        {
            if (string.IsNullOrEmpty(t)) throw new ArgumentException("a special token must not be empty", nameof(extra));
            if (all.Contains(t)) throw new ArgumentException($"the special token \"{t}\" is given twice (or is one of {string.Join(", ", Specials)})", nameof(extra));
            all.Add(t);
        }
        return all;
    }

    private static Tokenizer Assemble(ITokenizerModel model, INormalizer normalizer, IPreTokenizer preTokenizer, IDecoder decoder, IReadOnlyList<string> specials)
    {
        var added = specials.Select(s => new AddedToken(model.TokenToId(s)!.Value, s, Normalized: false, Special: true)).ToList();
        return new Tokenizer(model, normalizer, preTokenizer, TemplateProcessor.AppendEos(Eos, model.TokenToId(Eos)!.Value), decoder, added);
    }
}
