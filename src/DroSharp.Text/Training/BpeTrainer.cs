namespace DroSharp.Text.Training;

/// <summary>
/// Standard BPE training over word counts: start from single characters, repeatedly merge the adjacent
/// pair with the highest total count into a new symbol, until the vocabulary has <c>vocabSize</c> entries
/// or the best pair occurs fewer than <c>minFrequency</c> times. Ties go to the pair with the smaller
/// (left id, right id), as in HF's trainer, so ids (specials, then the sorted alphabet, then merges in
/// order) decide — the result is deterministic.
/// </summary>
internal static class BpeTrainer
{
    public static (Dictionary<string, int> Vocab, List<(string, string)> Merges) Train(
        IReadOnlyDictionary<string, long> wordCounts,
        IReadOnlyList<string> specialTokens,
        IEnumerable<char> initialAlphabet,
        int vocabSize,
        long minFrequency)
    {
        var tokens = new List<string>();
        var vocab = new Dictionary<string, int>();
        void Add(string t)
        {
            if (vocab.ContainsKey(t)) return;
            vocab[t] = tokens.Count;
            tokens.Add(t);
        }
        foreach (var s in specialTokens) Add(s);

        // Alphabet: the initial characters plus every code point seen, in code point order.
        var alphabet = new SortedSet<string>(Utf16.CodePointComparer);
        foreach (char c in initialAlphabet) alphabet.Add(c.ToString());
        foreach (var word in wordCounts.Keys)
            for (int i = 0; i < word.Length;)
            {
                int w = Utf16.WidthAt(word, i);
                alphabet.Add(word.Substring(i, w));
                i += w;
            }
        foreach (var a in alphabet) Add(a);

        // Words as symbol-id sequences, in a fixed (code point) order so the result never depends on hashing.
        var orderedWords = wordCounts.Keys.OrderBy(w => w, Utf16.CodePointComparer).ToArray();
        var words = new List<int>[orderedWords.Length];
        var counts = new long[orderedWords.Length];
        for (int wi = 0; wi < orderedWords.Length; wi++)
        {
            string word = orderedWords[wi];
            var symbols = new List<int>(word.Length);
            for (int i = 0; i < word.Length;)
            {
                int w = Utf16.WidthAt(word, i);
                symbols.Add(vocab[word.Substring(i, w)]);
                i += w;
            }
            words[wi] = symbols;
            counts[wi] = wordCounts[word];
        }

        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, SortedSet<int>>();
        for (int wi = 0; wi < words.Length; wi++)
        {
            var s = words[wi];
            for (int i = 0; i + 1 < s.Count; i++)
            {
                long key = Key(s[i], s[i + 1]);
                pairCounts[key] = pairCounts.GetValueOrDefault(key) + counts[wi];
                if (!pairWords.TryGetValue(key, out var set)) pairWords[key] = set = new SortedSet<int>();
                set.Add(wi);
            }
        }

        // Max-count first, then smallest pair: priority (−count, pair) in a min-queue. Stale entries are re-queued.
        var queue = new PriorityQueue<long, (long NegCount, long Pair)>();
        foreach (var (pair, count) in pairCounts)
            if (count > 0) queue.Enqueue(pair, (-count, pair));

        var merges = new List<(string, string)>();
        var changed = new HashSet<long>();
        while (tokens.Count < vocabSize && queue.TryDequeue(out long top, out var priority))
        {
            long count = pairCounts.GetValueOrDefault(top);
            if (count != -priority.NegCount)
            {
                if (count > 0) queue.Enqueue(top, (-count, top));
                continue;
            }
            if (count < Math.Max(1, minFrequency)) break;

            int a = (int)(top >> 32), b = (int)(top & 0xFFFFFFFF);
            string merged = tokens[a] + tokens[b];
            int newId = vocab.TryGetValue(merged, out int existing) ? existing : tokens.Count;
            Add(merged);
            merges.Add((tokens[a], tokens[b]));

            changed.Clear();
            foreach (int wi in pairWords[top])
                MergeInWord(words[wi], a, b, newId, counts[wi], wi, pairCounts, pairWords, changed);
            pairCounts[top] = 0; // every occurrence is merged (overlaps like "a a a" leave none either)
            foreach (long pair in changed.Order())
            {
                long c = pairCounts.GetValueOrDefault(pair);
                if (c > 0 && pair != top) queue.Enqueue(pair, (-c, pair));
            }
        }
        return (vocab, merges);
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>Replaces each non-overlapping (a, b), left to right, and updates the neighbouring pairs' counts.</summary>
    private static void MergeInWord(List<int> s, int a, int b, int newId, long wordCount, int wordIndex,
        Dictionary<long, long> pairCounts, Dictionary<long, SortedSet<int>> pairWords, HashSet<long> changed)
    {
        void Change(long pair, long delta)
        {
            pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + delta;
            changed.Add(pair);
            if (delta > 0)
            {
                if (!pairWords.TryGetValue(pair, out var set)) pairWords[pair] = set = new SortedSet<int>();
                set.Add(wordIndex);
            }
        }

        for (int i = 0; i + 1 < s.Count; i++)
        {
            if (s[i] != a || s[i + 1] != b) continue;
            if (i > 0)
            {
                Change(Key(s[i - 1], a), -wordCount);
                Change(Key(s[i - 1], newId), wordCount);
            }
            if (i + 2 < s.Count)
            {
                Change(Key(b, s[i + 2]), -wordCount);
                Change(Key(newId, s[i + 2]), wordCount);
            }
            s[i] = newId;
            s.RemoveAt(i + 1);
        }
    }
}
