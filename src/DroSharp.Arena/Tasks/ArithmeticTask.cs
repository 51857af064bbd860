using System.Text;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tasks;

/// <summary>
/// Addition with a known answer.
///
/// Text format: every character is its own word. Prompt <c>"4 7 + 8 5 ="</c> (operands without leading
/// zeros), completion <c>"1 3 2"</c>; the model's end-of-sequence token ends the answer. A completion is
/// read as tokens = its non-whitespace characters, so "132" and "1 3 2" score the same.
///
/// Reward, with d = the leading run of digit tokens, a = the true sum's digits, e = tokens after d:
///   d empty                 → r = 0 (garbage)
///   d = a                   → base = 1
///   otherwise               → base = w · #{i : d and a agree at position i counted from the right} / max(|d|, |a|)
///   r = max(0, base − p · |e|)
/// with w = PartialCreditWeight (0.5) and p = ExtraTokenPenalty (0.25). So r ∈ [0, 1] and only the exact
/// answer with nothing after it reaches 1.
/// </summary>
public sealed class ArithmeticTask : ArenaTask
{
    private static readonly string[] VocabularyWords = ["+", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "="];

    private readonly ArithmeticTaskOptions _options;
    private readonly int _operandLimit; // operands in [0, _operandLimit)
    private readonly IReadOnlyList<string>? _allPrompts;

    public ArithmeticTask() : this(new ArithmeticTaskOptions()) { }

    public ArithmeticTask(ArithmeticTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _operandLimit = (int)Math.Pow(10, options.MaxOperandDigits);
        if ((long)_operandLimit * _operandLimit <= 100_000)
        {
            var all = new List<string>(_operandLimit * _operandLimit);
            for (int a = 0; a < _operandLimit; a++)
                for (int b = 0; b < _operandLimit; b++)
                    all.Add(FormatPrompt(a, b));
            _allPrompts = all;
        }
    }

    public ArithmeticTaskOptions Options => _options;

    public override string Name => "arithmetic";

    public override string Description =>
        $"Addition of two operands in [0, {_operandLimit - 1}], written digit by digit (\"4 7 + 8 5 =\" → \"1 3 2\"). " +
        $"r = 1 for the exact sum, {_options.PartialCreditWeight:0.##} × the fraction of right-aligned digits that match otherwise, " +
        $"minus {_options.ExtraTokenPenalty:0.##} per extra token, and 0 for an answer that does not start with a digit. " +
        $"Demonstrations are exact {_options.DemonstrationAccuracy:P0} of the time and otherwise carry a typical slip (a wrong digit, a forgotten carry, a wild guess).";

    public override FeedbackThreshold DefaultFeedback => new(0.5, 0.1);

    public override int MaxCompletionTokens => _options.MaxOperandDigits + 3;

    public override IReadOnlyList<string> Vocabulary => VocabularyWords;

    protected override IReadOnlyList<string>? AllPrompts => _allPrompts;

    public static string FormatPrompt(int a, int b) => $"{Spaced(a)} + {Spaced(b)} =";

    /// <summary>The digits of a non-negative number separated by spaces: 132 → "1 3 2".</summary>
    public static string Spaced(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return string.Join(' ', value.ToString(System.Globalization.CultureInfo.InvariantCulture).ToCharArray());
    }

    /// <summary>Parses a prompt of this task into its operands; a clear error otherwise.</summary>
    public (int A, int B) ParsePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var chars = Tokens(prompt);
        int plus = chars.IndexOf('+');
        if (chars.Count < 4 || chars[^1] != '=' || plus <= 0 || plus >= chars.Count - 2)
            throw new FormatException($"arithmetic prompt '{prompt}' is not of the form 'a a + b b ='");
        int a = ParseOperand(chars, 0, plus, prompt);
        int b = ParseOperand(chars, plus + 1, chars.Count - 1, prompt);
        return (a, b);
    }

    public string Answer(string prompt)
    {
        var (a, b) = ParsePrompt(prompt);
        return Spaced(a + b);
    }

    public override double Reward(string prompt, string completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var (a, b) = ParsePrompt(prompt);
        string answer = (a + b).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tokens = Tokens(completion);
        int run = 0;
        while (run < tokens.Count && char.IsAsciiDigit(tokens[run])) run++;
        if (run == 0) return 0.0;

        double baseReward;
        if (run == answer.Length && Enumerable.Range(0, run).All(i => tokens[i] == answer[i]))
        {
            baseReward = 1.0;
        }
        else
        {
            int matches = 0;
            for (int i = 1; i <= Math.Min(run, answer.Length); i++)
                if (tokens[run - i] == answer[^i]) matches++;
            baseReward = _options.PartialCreditWeight * matches / Math.Max(run, answer.Length);
        }
        int extra = tokens.Count - run;
        return Math.Max(0.0, baseReward - _options.ExtraTokenPenalty * extra);
    }

    public override double BestReward(string prompt)
    {
        ParsePrompt(prompt);
        return 1.0;
    }

    /// <summary>
    /// Exact with probability DemonstrationAccuracy; otherwise 40 % one wrong digit, 40 % the sum without
    /// carries (a wrong digit when there is no carry to forget), 20 % a random number of the same length.
    /// </summary>
    public override string DemonstrationFor(string prompt, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (a, b) = ParsePrompt(prompt);
        int sum = a + b;
        if (rng.NextDouble() < _options.DemonstrationAccuracy) return Spaced(sum);
        double kind = rng.NextDouble();
        if (kind < 0.4) return Spaced(OneDigitWrong(sum, rng));
        if (kind < 0.8)
        {
            int noCarry = SumWithoutCarries(a, b);
            return Spaced(noCarry != sum ? noCarry : OneDigitWrong(sum, rng));
        }
        return Spaced(RandomOtherSameLength(sum, rng));
    }

    /// <summary>Half the time a near miss of the answer (as the demonstrator makes), half uniform digits, 10 % with a stray token.</summary>
    public override string RandomCompletion(string prompt, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (a, b) = ParsePrompt(prompt);
        int sum = a + b;
        string text;
        if (rng.NextDouble() < 0.5)
        {
            text = Spaced(rng.NextDouble() < 0.5 ? OneDigitWrong(sum, rng) : Math.Max(0, sum + rng.NextInt(21) - 10));
        }
        else
        {
            int length = 1 + rng.NextInt(_options.MaxOperandDigits + 2);
            var digits = new char[length];
            for (int i = 0; i < length; i++) digits[i] = (char)('0' + (i == 0 && length > 1 ? 1 + rng.NextInt(9) : rng.NextInt(10)));
            text = string.Join(' ', digits);
        }
        if (rng.NextDouble() < 0.1) text += rng.NextDouble() < 0.5 ? " =" : " +";
        return text;
    }

    /// <summary>"47+85=" and "4 7 + 8 5 =" are the same prompt for the reward, so also for the split.</summary>
    protected override string CanonicalPrompt(string prompt)
    {
        var chars = Tokens(prompt);
        return string.Join(' ', chars);
    }

    protected override string DrawPrompt(DeterministicRandom rng) => FormatPrompt(rng.NextInt(_operandLimit), rng.NextInt(_operandLimit));

    /// <summary>Digit-wise sum mod 10 (the classic forgotten-carry slip): 47 + 85 → 22.</summary>
    public static int SumWithoutCarries(int a, int b)
    {
        int result = 0, place = 1;
        while (a > 0 || b > 0)
        {
            result += (a % 10 + b % 10) % 10 * place;
            a /= 10; b /= 10; place *= 10;
        }
        return result;
    }

    private static int OneDigitWrong(int value, DeterministicRandom rng)
    {
        char[] digits = value.ToString(System.Globalization.CultureInfo.InvariantCulture).ToCharArray();
        int pos = rng.NextInt(digits.Length);
        int lowest = pos == 0 && digits.Length > 1 ? 1 : 0; // no leading zero
        int current = digits[pos] - '0';
        int choice = lowest + rng.NextInt(10 - lowest - 1); // uniform over the other allowed digits
        if (choice >= current) choice++;
        digits[pos] = (char)('0' + choice);
        return int.Parse(digits, provider: System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int RandomOtherSameLength(int value, DeterministicRandom rng)
    {
        int length = value.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        int low = length == 1 ? 0 : (int)Math.Pow(10, length - 1), high = (int)Math.Pow(10, length);
        if (high - low < 2) return value;
        while (true)
        {
            int candidate = low + rng.NextInt(high - low);
            if (candidate != value) return candidate;
        }
    }

    private static List<char> Tokens(string text)
    {
        var tokens = new List<char>(text.Length);
        foreach (char c in text) if (!char.IsWhiteSpace(c)) tokens.Add(c);
        return tokens;
    }

    private int ParseOperand(List<char> chars, int start, int end, string prompt)
    {
        int length = end - start;
        if (length < 1 || length > _options.MaxOperandDigits)
            throw new FormatException($"arithmetic prompt '{prompt}': operand has {length} digits, expected 1 to {_options.MaxOperandDigits}");
        var sb = new StringBuilder(length);
        for (int i = start; i < end; i++)
        {
            if (!char.IsAsciiDigit(chars[i])) throw new FormatException($"arithmetic prompt '{prompt}': '{chars[i]}' is not a digit");
            sb.Append(chars[i]);
        }
        if (length > 1 && sb[0] == '0') throw new FormatException($"arithmetic prompt '{prompt}': operand has a leading zero");
        return int.Parse(sb.ToString(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
