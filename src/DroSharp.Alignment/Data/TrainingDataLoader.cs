namespace DroSharp.Alignment.Data;

/// <summary>
/// From <c>dro train</c>'s data options to token ids ready for the trainer: reads and validates the files
/// (<see cref="FeedbackFileReader"/>), converts them for the method (<see cref="DataRequirement"/>), holds out the
/// eval split, encodes text (ids in the file are used verbatim), truncates, maps labels to rewards, fits the
/// z-normalisation on the training split and applies it to both, groups examples by prompt and summarises.
/// </summary>
public static class TrainingDataLoader
{
    /// <param name="encoder">Encodes text columns; may be null when every text column is given as ids.</param>
    public static TrainingData Load(TrainingDataOptions options, ITextEncoder? encoder)
    {
        Validate(options);
        var read = new FeedbackReadOptions { Format = options.Format, SkipBadRows = options.SkipBadRows };
        var trainFile = FeedbackFileReader.Read(options.DataPath, read).ConvertFor(options.Requirement, options.Purpose);
        var warnings = new List<string>(trainFile.Warnings);
        var skipped = new List<SkippedRow>(trainFile.SkippedRows);

        FeedbackDataset train = trainFile;
        FeedbackDataset? eval = null;
        if (options.EvalDataPath is string evalPath)
        {
            eval = FeedbackFileReader.Read(evalPath, read).ConvertFor(options.Requirement, options.Purpose);
            if (eval.Kind != train.Kind)
                throw new DataFormatException(eval.File, null, null, DataErrorKind.WrongKind,
                    $"the eval data holds {DatasetKindText.Describe(eval.Kind)} but the training data ({train.File}) holds "
                    + $"{DatasetKindText.Describe(train.Kind)}; both need the same kind of feedback");
            warnings.AddRange(eval.Warnings);
            skipped.AddRange(eval.SkippedRows);
        }
        else if (options.EvalFraction is double fraction)
        {
            var split = DatasetSplitter.Split(trainFile, fraction, options.Seed);
            train = trainFile.Select(split.Train);
            eval = trainFile.Select(split.Eval);
        }

        var trainEncoded = Encode(train, encoder, options, skipped);
        var evalEncoded = eval is null ? null : Encode(eval, encoder, options, skipped);

        RewardNormalizer? normalizer = null;
        var trainWarnings = new List<string>(train.Warnings);
        if (trainEncoded.RawRewards is double[] raw)
        {
            var stats = RewardStatistics.Compute(raw);
            var fit = new RewardNormalizer(stats.Mean, stats.Std);
            if (fit.IsConstant)
            {
                string what = train.Kind == DatasetKind.LabelledFeedback
                    ? $"all {raw.Length} training labels are {(raw[0] == options.UpReward ? "thumbs up" : "thumbs down")}"
                    : $"all {raw.Length} training rewards equal {stats.Mean:G6}";
                string w = options.NormalizeRewards
                    ? $"{what}: after normalisation every training reward is 0 and the feedback carries no signal (no division by zero: only the mean is subtracted)"
                    : $"{what}: the feedback carries no signal to learn from";
                trainWarnings.Add(w);
                warnings.Add(w);
            }
            if (options.NormalizeRewards) normalizer = fit;
        }

        var trainSplit = Finish("train", train, trainEncoded, normalizer, options, trainWarnings);
        PreparedSplit? evalSplit = null;
        if (eval is not null)
        {
            var evalWarnings = options.EvalDataPath is null ? [] : eval.Warnings;
            evalSplit = Finish("eval", eval, evalEncoded!, normalizer, options, evalWarnings);
        }
        return new TrainingData(trainSplit, evalSplit, normalizer, skipped, warnings.Distinct().ToList());
    }

    private static void Validate(TrainingDataOptions o)
    {
        if (o.EvalDataPath is not null && o.EvalFraction is not null)
            throw new ArgumentException("give either an eval file (--eval-data) or an eval fraction (--eval-fraction), not both");
        if (o.EvalFraction is double f && !(f > 0 && f < 1))
            throw new ArgumentOutOfRangeException(nameof(o.EvalFraction), f, "--eval-fraction must be strictly between 0 and 1");
        if (!double.IsFinite(o.UpReward) || !double.IsFinite(o.DownReward) || !(o.UpReward > o.DownReward))
            throw new ArgumentException($"the thumbs-up reward ({o.UpReward}) must be a finite number greater than the thumbs-down reward ({o.DownReward})");
    }

    /// <summary>Ids after truncation and raw rewards, index for index with the dataset's rows that survived encoding.</summary>
    private sealed class Encoded
    {
        public required FeedbackDataset Rows { get; init; }
        public required List<(int[] Prompt, int[] Completion, bool? Label, double? RawReward, int Line)> Examples { get; init; }
        public required List<TokenizedPair> Pairs { get; init; }
        public required SequenceTruncator Truncator { get; init; }
        public required int SkippedWhileEncoding { get; init; }
        public double[]? RawRewards => Examples.Count > 0 && Examples[0].RawReward is not null ? Examples.Select(e => e.RawReward!.Value).ToArray() : null;
    }

    private static Encoded Encode(FeedbackDataset data, ITextEncoder? encoder, TrainingDataOptions options, List<SkippedRow> skipped)
    {
        var truncator = new SequenceTruncator(options.MaxPromptLength, options.MaxCompletionLength, options.BosId, options.EndIds);
        var promptCache = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var examples = new List<(int[], int[], bool?, double?, int)>();
        var pairs = new List<TokenizedPair>();
        var kept = new List<int>();
        int skippedHere = 0;

        // Throws, or (--skip-bad-rows) records the row as skipped and returns false.
        bool Bad(int line, string column, DataErrorKind kind, string reason)
        {
            var e = new DataFormatException(data.File, line, column, kind, reason);
            if (!options.SkipBadRows) throw e;
            skipped.Add(new SkippedRow(data.File, line, column, e.Kind, e.Reason));
            skippedHere++;
            return false;
        }

        // Ids outside the model's vocabulary would index past the embedding: a bad row, named by line and field.
        bool InVocabulary(int[] ids, TextOrIds source, string column, int line)
        {
            if (options.VocabSize is not int v) return true;
            for (int k = 0; k < ids.Length; k++)
                if (ids[k] >= v)
                    return Bad(line, source.HasIds ? Columns.Ids(column) : column, DataErrorKind.TokenOutOfVocabulary,
                        $"token id {ids[k]} (position {k}) is outside the model's vocabulary of {v} tokens");
            return true;
        }

        // Text to ids; text the tokenizer cannot represent (FormatException, e.g. no unknown token) is a bad row.
        int[]? EncodeText(TextOrIds t, bool completion, string column, int line)
        {
            if (encoder is null)
                throw new DataFormatException(data.File, line, column, DataErrorKind.Unencodable,
                    "the field is text but the model directory has no tokenizer.json to encode it; add one, or give the column as token ids (" + Columns.Ids(column) + ")");
            try { return t.ToIds(encoder, completion); }
            catch (FormatException e) { Bad(line, column, DataErrorKind.Unencodable, $"the tokenizer cannot encode the text: {e.Message}"); return null; }
        }

        int[]? PromptIds(TextOrIds p, int line)
        {
            int[]? ids;
            if (p.Ids is not null) ids = p.Ids;
            else if (!promptCache.TryGetValue(p.Text!, out ids!))
            {
                ids = EncodeText(p, completion: false, Columns.Prompt, line);
                if (ids is null) return null;
                promptCache[p.Text!] = ids;
            }
            if (ids.Length == 0) { Bad(line, Columns.Prompt, DataErrorKind.EmptyPrompt, "the prompt encodes to no tokens"); return null; }
            return InVocabulary(ids, p, Columns.Prompt, line) ? ids : null;
        }

        int[]? ResponseIds(TextOrIds r, string column, int line)
        {
            var ids = r.HasIds ? r.Ids! : EncodeText(r, completion: true, column, line);
            if (ids is null) return null;
            if (ids.Length == 0) { Bad(line, column, DataErrorKind.EmptyCompletion, "the text encodes to no tokens"); return null; }
            return InVocabulary(ids, r, column, line) ? ids : null;
        }

        for (int i = 0; i < data.Count; i++)
        {
            if (data.Kind == DatasetKind.PreferencePairs)
            {
                var p = data.Pairs[i];
                var promptIds = PromptIds(p.Prompt, p.Line);
                var chosen = promptIds is null ? null : ResponseIds(p.Chosen, Columns.Chosen, p.Line);
                var rejected = chosen is null ? null : ResponseIds(p.Rejected, Columns.Rejected, p.Line);
                if (rejected is null) continue;
                pairs.Add(new TokenizedPair(truncator.TruncatePrompt(promptIds!), truncator.TruncateCompletion(chosen!),
                    truncator.TruncateCompletion(rejected), p.Line));
            }
            else
            {
                var x = data.Examples[i];
                var promptIds = PromptIds(x.Prompt, x.Line);
                var completion = promptIds is null ? null : ResponseIds(x.Completion, Columns.Completion, x.Line);
                if (completion is null) continue;
                double? raw = x.Label is bool up ? (up ? options.UpReward : options.DownReward) : x.Reward;
                examples.Add((truncator.TruncatePrompt(promptIds!), truncator.TruncateCompletion(completion), x.Label, raw, x.Line));
            }
            kept.Add(i);
        }
        if (kept.Count == 0)
            throw new DataFormatException(data.File, null, null, DataErrorKind.UnsupportedLayout, "no rows are left after encoding");
        return new Encoded
        {
            Rows = kept.Count == data.Count ? data : data.Select(kept),
            Examples = examples,
            Pairs = pairs,
            Truncator = truncator,
            SkippedWhileEncoding = skippedHere,
        };
    }

    private static PreparedSplit Finish(string name, FeedbackDataset data, Encoded enc, RewardNormalizer? normalizer,
        TrainingDataOptions options, IReadOnlyList<string> warnings)
    {
        var examples = enc.Examples
            .Select(e => new TokenizedExample(e.Prompt, e.Completion, e.Label, e.RawReward,
                e.RawReward is double r ? (normalizer?.Normalize(r) ?? r) : null, e.Line))
            .ToList();
        bool pairs = data.Kind == DatasetKind.PreferencePairs;
        var prompts = pairs ? enc.Pairs.Select(p => p.PromptIds).ToList() : examples.Select(e => e.PromptIds).ToList();
        var responses = pairs ? enc.Pairs.SelectMany(p => new[] { p.ChosenIds, p.RejectedIds }).ToList() : examples.Select(e => e.CompletionIds).ToList();
        var groups = PromptGroups.Build(prompts);
        var raw = enc.RawRewards;

        var summary = new DatasetSummary
        {
            Split = name,
            File = data.File,
            Format = data.Format.ToString().ToLowerInvariant(),
            Kind = DatasetKindText.Short(data.Kind),
            ConvertedFrom = data.ConvertedFrom is DatasetKind from ? DatasetKindText.Short(from) : null,
            RowsRead = data.RowsRead,
            SkippedRows = data.SkippedRows.Count + enc.SkippedWhileEncoding,
            Examples = prompts.Count,
            LabelsUp = data.Kind == DatasetKind.LabelledFeedback ? examples.Count(e => e.Label == true) : null,
            LabelsDown = data.Kind == DatasetKind.LabelledFeedback ? examples.Count(e => e.Label == false) : null,
            Rewards = raw is null ? null : RewardStatistics.Compute(raw),
            RewardsNormalized = raw is not null && normalizer is not null,
            NormalizationMean = raw is null ? null : normalizer?.Mean,
            NormalizationStd = raw is null ? null : normalizer?.Std,
            DistinctPrompts = groups.Count,
            PromptsWithSeveralResponses = groups.WithSeveralResponses,
            MaxResponsesPerPrompt = groups.MaxResponses,
            PromptTokensMean = prompts.Average(p => (double)p.Length),
            PromptTokensMax = prompts.Max(p => p.Length),
            CompletionTokensMean = responses.Average(c => (double)c.Length),
            CompletionTokensMax = responses.Max(c => c.Length),
            MaxPromptLength = options.MaxPromptLength,
            MaxCompletionLength = options.MaxCompletionLength,
            Truncation = enc.Truncator.Counts,
            Warnings = warnings,
        };
        return new PreparedSplit(name, enc.Rows, pairs ? [] : examples, pairs ? enc.Pairs : [], groups, summary);
    }
}
