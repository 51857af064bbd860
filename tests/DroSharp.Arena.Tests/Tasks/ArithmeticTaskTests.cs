using DroSharp.Arena.Tasks;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Tasks;

public class ArithmeticTaskTests
{
    private readonly ArithmeticTask _task = new();
    private const string Prompt = "4 7 + 8 5 ="; // 47 + 85 = 132

    [Theory]
    [InlineData("1 3 2", 1.0)]                // exact
    [InlineData("132", 1.0)]                  // same tokens without spaces
    [InlineData("  1  3 2 ", 1.0)]            // whitespace does not matter
    [InlineData("1 3 2 =", 0.75)]             // exact, one extra token
    [InlineData("1 3 2 = =", 0.5)]            // two extra tokens
    [InlineData("1 3 3", 0.5 * 2 / 3)]        // two of three digits right (aligned from the right)
    [InlineData("2 2", 0.5 * 1 / 3)]          // forgot the carry: only the units digit matches
    [InlineData("3 2", 0.5 * 2 / 3)]          // dropped the hundreds: right-aligned digits still match
    [InlineData("1 1 3 2", 0.5 * 3 / 4)]      // an extra leading digit: 3 matches over 4 positions
    [InlineData("9 9 9", 0.0)]                // nothing right
    [InlineData("", 0.0)]                     // empty
    [InlineData("= 1 3 2", 0.0)]              // does not start with a digit: garbage
    [InlineData("hello", 0.0)]
    [InlineData("1 3 3 + + + +", 0.0)]        // partial credit eaten by the extra tokens, clamped at 0
    public void Reward_OnHandWrittenCompletions(string completion, double expected)
        => Assert.Equal(expected, _task.Reward(Prompt, completion), 12);

    [Fact]
    public void Reward_IsOneOnlyForTheExactAnswer()
    {
        var rng = new DeterministicRandom(3);
        foreach (string prompt in _task.SamplePrompts(rng, 200))
        {
            var (a, b) = _task.ParsePrompt(prompt);
            Assert.Equal(1.0, _task.Reward(prompt, ArithmeticTask.Spaced(a + b)));
            Assert.Equal(1.0, _task.BestReward(prompt));
            for (int i = 0; i < 20; i++)
            {
                string other = _task.RandomCompletion(prompt, rng);
                double r = _task.Reward(prompt, other);
                Assert.InRange(r, 0.0, 1.0);
                string compact = other.Replace(" ", "");
                string number = new(compact.TakeWhile(char.IsAsciiDigit).ToArray());
                if (number != (a + b).ToString(System.Globalization.CultureInfo.InvariantCulture))
                    Assert.True(r <= 0.5, $"'{prompt}' → '{other}' got {r}"); // a wrong number earns at most the partial-credit weight
                else if (compact.Length > number.Length)
                    Assert.True(r < 1.0, $"'{prompt}' → '{other}' got {r}"); // the right number with extra tokens is not perfect
            }
        }
    }

    [Fact]
    public void Prompts_AreSpacedDigits()
    {
        Assert.Equal("4 7 + 8 5 =", ArithmeticTask.FormatPrompt(47, 85));
        Assert.Equal("0 + 9 =", ArithmeticTask.FormatPrompt(0, 9));
        Assert.Equal("1 3 2", ArithmeticTask.Spaced(132));
        Assert.Equal((47, 85), _task.ParsePrompt("4 7 + 8 5 ="));
        Assert.Equal((47, 85), _task.ParsePrompt("47+85="));
        Assert.Equal("1 3 2", _task.Answer(Prompt));
    }

    [Theory]
    [InlineData("4 7 + 8 5")]     // no '='
    [InlineData("+ 8 5 =")]       // no first operand
    [InlineData("4 7 + =")]       // no second operand
    [InlineData("4 7 8 + 5 =")]   // three digits with MaxOperandDigits = 2
    [InlineData("0 7 + 5 =")]     // leading zero
    [InlineData("4 x + 5 =")]
    public void ParsePrompt_RejectsMalformedPrompts(string prompt)
    {
        var e = Assert.Throws<FormatException>(() => _task.Reward(prompt, "1"));
        Assert.Contains(prompt, e.Message);
    }

    [Fact]
    public void SumWithoutCarries_IsTheClassicSlip()
    {
        Assert.Equal(22, ArithmeticTask.SumWithoutCarries(47, 85));
        Assert.Equal(59, ArithmeticTask.SumWithoutCarries(23, 36)); // no carry: same as the sum
        Assert.Equal(0, ArithmeticTask.SumWithoutCarries(5, 5));
        Assert.Equal(9, ArithmeticTask.SumWithoutCarries(9, 0));
    }

    [Fact]
    public void Demonstrations_AreRightSomeOfTheTimeAndCloseOtherwise()
    {
        var demos = _task.Demonstrations(new DeterministicRandom(11), 3000);
        var rewards = demos.Select(d => _task.Reward(d.Prompt, d.Completion)).ToArray();
        double exact = rewards.Count(r => r == 1.0) / (double)rewards.Length;
        Assert.InRange(exact, 0.30, 0.42); // DemonstrationAccuracy = 0.35 (plus rare lucky slips)
        Assert.All(demos, d => Assert.Matches(@"^[0-9]( [0-9])*$", d.Completion)); // always well-formed digits
        Assert.InRange(rewards.Average(), 0.35, 0.65);
    }

    [Fact]
    public void OneDigitOperands_HaveASmallPromptSpace()
    {
        var task = new ArithmeticTask(new ArithmeticTaskOptions { MaxOperandDigits = 1 });
        var eval = task.TestPrompts(5);
        Assert.All(eval, p => Assert.Matches(@"^[0-9] \+ [0-9] =$", p));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => task.TestPrompts(100));
        Assert.Contains("held-out test", e.Message);
        Assert.Equal(4, task.MaxCompletionTokens);
    }

    [Fact]
    public void ThreeDigitOperands_SampleTestPromptsWithoutListingTheSpace()
    {
        var task = new ArithmeticTask(new ArithmeticTaskOptions { MaxOperandDigits = 3 });
        var eval = task.TestPrompts(50);
        Assert.Equal(50, eval.Distinct().Count());
        Assert.All(eval, p => Assert.Equal(PromptSplit.Test, task.SplitOf(p)));
        Assert.Equal(eval.Take(20), task.TestPrompts(20));
        Assert.Empty(eval.Intersect(task.ValidationPrompts(50)));
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArithmeticTask(new ArithmeticTaskOptions { MaxOperandDigits = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArithmeticTask(new ArithmeticTaskOptions { MaxOperandDigits = 4 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArithmeticTask(new ArithmeticTaskOptions { PartialCreditWeight = 1.0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArithmeticTask(new ArithmeticTaskOptions { DemonstrationAccuracy = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArithmeticTask(new ArithmeticTaskOptions { ExtraTokenPenalty = double.NaN }));
    }
}
