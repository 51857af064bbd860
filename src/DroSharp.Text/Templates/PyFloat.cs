using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>Python's float formatting: <c>repr</c> (shortest round-trip digits) and the <c>e</c>/<c>f</c>/<c>g</c> presentations.</summary>
internal static class PyFloat
{
    /// <summary>
    /// <c>repr(x)</c>: the shortest digits that round-trip, in fixed notation when the decimal exponent is in
    /// [-4, 16), else <c>d.ddde±XX</c>; integral values keep <c>.0</c>; <c>inf</c>, <c>nan</c>.
    /// </summary>
    public static string Repr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var (negative, digits, decpt) = ShortestDigits(d);
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (decpt <= -4 || decpt > 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            AppendExponent(sb, decpt - 1);
        }
        else if (decpt <= 0) sb.Append("0.").Append('0', -decpt).Append(digits);
        else if (decpt >= digits.Length) sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
        else sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, digits.Length - decpt);
        return sb.ToString();
    }

    /// <summary>Shortest round-trip decimal digits (no leading/trailing zeros) and the decimal point position: x = 0.DIGITS × 10^decpt.</summary>
    public static (bool Negative, string Digits, int DecimalPoint) ShortestDigits(double d)
    {
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        return (double.IsNegative(d), ParseDigits(r, out int decpt), decpt);
    }

    private static string ParseDigits(string r, out int decpt)
    {
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = r;
        if (e >= 0)
        {
            exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = r[..e];
        }
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot];
        string frac = dot < 0 ? "" : mantissa[(dot + 1)..];
        string all = intPart + frac;
        int point = intPart.Length + exp;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        all = all[lead..];
        point -= lead;
        all = all.TrimEnd('0');
        if (all.Length == 0) all = "0";
        decpt = point;
        return all;
    }

    private static void AppendExponent(StringBuilder sb, int exp)
    {
        sb.Append('e').Append(exp < 0 ? '-' : '+');
        int a = Math.Abs(exp);
        if (a < 10) sb.Append('0');
        sb.Append(a.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Correctly rounded (half-even on the exact value) digits with <paramref name="significant"/> significant digits.</summary>
    private static (string Digits, int DecimalPoint) RoundSignificant(double a, int significant) => PyRound.Significant(a, significant);

    /// <summary>Python <c>format(x, '.{p}f')</c> of |x| (caller adds the sign).</summary>
    public static string Fixed(double a, int precision, bool alternate = false)
    {
        string s = PyRound.Fixed(a, precision);
        if (alternate && precision == 0) s += ".";
        return s;
    }

    /// <summary>Python <c>format(x, '.{p}e')</c> for |x|.</summary>
    public static string Exponent(double a, int precision, bool upper = false, bool alternate = false)
    {
        var sb = new StringBuilder();
        if (a == 0)
        {
            sb.Append('0');
            if (precision > 0 || alternate) sb.Append('.').Append('0', precision);
            AppendExponent(sb, 0);
        }
        else
        {
            var (digits, decpt) = RoundSignificant(a, precision + 1);
            sb.Append(digits[0]);
            if (precision > 0 || alternate) sb.Append('.').Append(digits, 1, digits.Length - 1);
            AppendExponent(sb, decpt - 1);
        }
        string s = sb.ToString();
        return upper ? s.ToUpperInvariant() : s;
    }

    /// <summary>Python <c>format(x, '.{p}g')</c> for |x|: fixed if -4 ≤ exp &lt; p, trailing zeros removed unless alternate.</summary>
    public static string General(double a, int precision, bool upper = false, bool alternate = false)
    {
        if (precision == 0) precision = 1;
        int exp;
        if (a == 0) exp = 0;
        else exp = RoundSignificant(a, precision).DecimalPoint - 1;
        string s;
        if (exp >= -4 && exp < precision)
        {
            s = Fixed(a, precision - 1 - exp, alternate);
            if (!alternate && s.Contains('.')) s = s.TrimEnd('0').TrimEnd('.');
        }
        else
        {
            s = Exponent(a, precision - 1, upper, alternate);
            if (!alternate)
            {
                int e = s.IndexOfAny(['e', 'E']);
                string m = s[..e];
                if (m.Contains('.')) m = m.TrimEnd('0').TrimEnd('.');
                s = m + s[e..];
            }
        }
        return upper ? s.ToUpperInvariant() : s;
    }
}
