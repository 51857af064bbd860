using DroSharp.Arena.Tasks;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Tasks;

/// <summary>What every arena task promises, checked on each of them.</summary>
public class ArenaTaskContractTests
{
    public static TheoryData<string> TaskNames => new(ArenaTaskCatalog.Names);

    private static ArenaTask Create(string name) => ArenaTaskCatalog.Create(name);

    [Theory, MemberData(nameof(TaskNames))]
    public void SamplePrompts_IsDeterministicBySeed(string name)
    {
        var task = Create(name);
        var a = task.SamplePrompts(new DeterministicRandom(42), 100);
        var b = task.SamplePrompts(new DeterministicRandom(42), 100);
        var c = task.SamplePrompts(new DeterministicRandom(43), 100);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.Distinct().Count() > 50, "prompts should vary");
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void HeldOutPrompts_AreFixedDistinctAndNested(string name)
    {
        var task = Create(name);
        foreach (var split in new[] { PromptSplit.Validation, PromptSplit.Test })
        {
            var first = task.HeldOutPrompts(split, 100);
            Assert.Equal(first, Create(name).HeldOutPrompts(split, 100));
            Assert.Equal(100, first.Distinct().Count());
            Assert.Equal(first.Take(30), task.HeldOutPrompts(split, 30));
            Assert.Empty(task.HeldOutPrompts(split, 0));
        }
        Assert.Equal(task.TestPrompts(20), task.HeldOutPrompts(PromptSplit.Test, 20));
        Assert.Equal(task.ValidationPrompts(20), task.HeldOutPrompts(PromptSplit.Validation, 20));
        Assert.Throws<ArgumentException>(() => task.HeldOutPrompts(PromptSplit.Train, 5));
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void ValidationTestAndTrainingPrompts_AreDisjoint(string name)
    {
        var task = Create(name);
        // The default experiment uses 256 of each; both splits must hold that many.
        var validation = task.ValidationPrompts(256).ToHashSet();
        var test = task.TestPrompts(256).ToHashSet();
        Assert.Empty(validation.Intersect(test));
        Assert.All(validation, p => Assert.Equal(PromptSplit.Validation, task.SplitOf(p)));
        Assert.All(test, p => Assert.Equal(PromptSplit.Test, task.SplitOf(p)));
        Assert.All(validation.Concat(test), p => Assert.True(task.IsHeldOut(p)));
        for (ulong seed = 0; seed < 5; seed++)
        {
            var train = task.SamplePrompts(new DeterministicRandom(seed), 1000);
            Assert.All(train, p => Assert.Equal(PromptSplit.Train, task.SplitOf(p)));
            Assert.DoesNotContain(train, test.Contains);
            Assert.DoesNotContain(train, validation.Contains);
            var demos = task.Demonstrations(new DeterministicRandom(seed), 200);
            Assert.DoesNotContain(demos, d => test.Contains(d.Prompt) || validation.Contains(d.Prompt));
        }
    }

    [Fact]
    public void HeldOutSplit_IsAboutTheConfiguredFraction()
    {
        var task = new ArithmeticTask();
        int heldOut = 0, total = 0;
        for (int a = 0; a < 100; a++)
            for (int b = 0; b < 100; b++, total++)
                if (task.IsHeldOut(ArithmeticTask.FormatPrompt(a, b))) heldOut++;
        Assert.InRange(heldOut / (double)total, 0.18, 0.22);
        int validation = 0;
        for (int a = 0; a < 100; a++)
            for (int b = 0; b < 100; b++)
                if (task.SplitOf(ArithmeticTask.FormatPrompt(a, b)) == PromptSplit.Validation) validation++;
        Assert.InRange(validation / (double)heldOut, 0.45, 0.55); // ValidationShare = ½ of the held-out prompts
        Assert.Equal(task.IsHeldOut("4 7 + 8 5 ="), task.IsHeldOut("47+85=")); // same prompt for the reward, same side of the split
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void Demonstrations_AreDeterministicAndOnTrainingPrompts(string name)
    {
        var task = Create(name);
        var a = task.Demonstrations(new DeterministicRandom(9), 50);
        var b = task.Demonstrations(new DeterministicRandom(9), 50);
        Assert.Equal(a, b);
        Assert.All(a, d => Assert.False(task.IsHeldOut(d.Prompt)));
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void Demonstrations_AreImperfectButNotTrivial(string name)
    {
        var task = Create(name);
        var demos = task.Demonstrations(new DeterministicRandom(1), 2000);
        double demoMean = demos.Average(d => task.Reward(d.Prompt, d.Completion));
        double bestMean = demos.Average(d => task.BestReward(d.Prompt));
        // Well below the best achievable: at least 40 % of the gap between an empty answer and the best is open.
        double emptyMean = demos.Average(d => task.Reward(d.Prompt, ""));
        Assert.True(demoMean < bestMean - 0.4 * (bestMean - emptyMean), $"demo {demoMean:F3}, best {bestMean:F3}, empty {emptyMean:F3}");
        // Non-trivial: clearly better than answering nothing.
        Assert.True(demoMean > emptyMean + 0.2 * (bestMean - emptyMean), $"demo {demoMean:F3}, best {bestMean:F3}, empty {emptyMean:F3}");
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void BestOfManyOracle_BeatsTheDemonstrations(string name)
    {
        var task = Create(name);
        var rng = new DeterministicRandom(2);
        var prompts = task.SamplePrompts(rng, 150);
        double demoMean = 0, oracleMean = 0;
        foreach (string p in prompts)
        {
            demoMean += task.Reward(p, task.DemonstrationFor(p, rng));
            double best = double.NegativeInfinity;
            for (int i = 0; i < 32; i++)
            {
                best = Math.Max(best, task.Reward(p, task.RandomCompletion(p, rng)));
                best = Math.Max(best, task.Reward(p, task.DemonstrationFor(p, rng)));
            }
            Assert.True(best <= task.BestReward(p) + 1e-12);
            oracleMean += best;
        }
        demoMean /= prompts.Count;
        oracleMean /= prompts.Count;
        double scale = task.DefaultFeedback.Scale;
        Assert.True(oracleMean > demoMean + 2 * scale, $"oracle {oracleMean:F3} vs demonstrations {demoMean:F3}");
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void DefaultFeedback_SplitsTheDemonstrationsRoughlyEvenly(string name)
    {
        var task = Create(name);
        var demos = task.Demonstrations(new DeterministicRandom(4), 2000);
        double up = demos.Average(d => Feedback.ThumbsUpProbability(task.Reward(d.Prompt, d.Completion), task.DefaultFeedback));
        Assert.InRange(up, 0.3, 0.7);
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void Corpus_CoversTheVocabularyAndUsesOnlyIt(string name)
    {
        var task = Create(name);
        var corpus = task.Corpus(new DeterministicRandom(8), 300);
        Assert.Equal(string.Join(' ', task.Vocabulary), corpus[0]);
        var vocabulary = task.Vocabulary.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(task.Vocabulary.OrderBy(w => w, StringComparer.Ordinal), task.Vocabulary);
        Assert.Equal(vocabulary.Count, task.Vocabulary.Count);
        foreach (string line in corpus)
            Assert.All(line.Split(' ', StringSplitOptions.RemoveEmptyEntries), w => Assert.Contains(w, vocabulary));
        foreach (string p in task.TestPrompts(50).Concat(task.ValidationPrompts(50)))
            Assert.All(p.Split(' '), w => Assert.Contains(w, vocabulary));
    }

    [Theory, MemberData(nameof(TaskNames))]
    public void Completions_FitTheGenerationBudget(string name)
    {
        var task = Create(name);
        var rng = new DeterministicRandom(6);
        foreach (var d in task.Demonstrations(rng, 500))
            Assert.True(d.Completion.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= task.MaxCompletionTokens, d.Completion);
    }

    [Fact]
    public void Catalog_KnowsTheTasksAndNamesThemInErrors()
    {
        Assert.IsType<SentimentTask>(ArenaTaskCatalog.Create("sentiment"));
        Assert.IsType<ArithmeticTask>(ArenaTaskCatalog.Create(" Arithmetic "));
        var e = Assert.Throws<ArgumentException>(() => ArenaTaskCatalog.Create("chess"));
        Assert.Contains("chess", e.Message);
        Assert.Contains("sentiment", e.Message);
        foreach (string name in ArenaTaskCatalog.Names) Assert.Equal(name, ArenaTaskCatalog.Create(name).Name);
    }
}
