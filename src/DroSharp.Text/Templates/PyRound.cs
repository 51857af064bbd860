using System.Globalization;
using System.Numerics;

namespace DroSharp.Text.Templates;

/// <summary>
/// Exact decimal rounding of doubles, as CPython does it (round-half-even on the exact binary value):
/// <c>round(x, n)</c>, and the digits behind <c>%.nf</c>/<c>%.ne</c>.
/// </summary>
internal static class PyRound
{
    /// <summary>round-half-even(<paramref name="a"/> × 10^<paramref name="p"/>) for finite a ≥ 0, computed exactly.</summary>
    public static BigInteger ScaledRound(double a, int p)
    {
        long bits = BitConverter.DoubleToInt64Bits(a);
        int exp = (int)((bits >> 52) & 0x7FF);
        long mant = bits & 0xFFFFFFFFFFFFFL;
        if (exp == 0) exp = 1;
        else mant |= 1L << 52;
        exp -= 1075; // a = mant × 2^exp
        BigInteger num = mant, den = BigInteger.One;
        if (exp > 0) num <<= exp;
        else den <<= -exp;
        if (p > 0) num *= BigInteger.Pow(10, p);
        else if (p < 0) den *= BigInteger.Pow(10, -p);
        var q = BigInteger.DivRem(num, den, out var r);
        int cmp = (r * 2).CompareTo(den);
        if (cmp > 0 || (cmp == 0 && !q.IsEven)) q += 1;
        return q;
    }

    /// <summary>Digits of |a| rounded to <paramref name="precision"/> decimals, as <c>'%.{p}f'</c> prints them.</summary>
    public static string Fixed(double a, int precision)
    {
        string s = ScaledRound(a, precision).ToString(CultureInfo.InvariantCulture);
        if (precision == 0) return s;
        if (s.Length <= precision) s = new string('0', precision + 1 - s.Length) + s;
        return s[..^precision] + "." + s[^precision..];
    }

    /// <summary><paramref name="significant"/> digits of a &gt; 0, correctly rounded, and the decimal point position (a ≈ 0.DIGITS × 10^decpt).</summary>
    public static (string Digits, int DecimalPoint) Significant(double a, int significant)
    {
        int e = (int)Math.Floor(Math.Log10(a));
        for (int attempt = 0; attempt < 4; attempt++)
        {
            var q = ScaledRound(a, significant - 1 - e);
            var upper = BigInteger.Pow(10, significant);
            if (q >= upper)
            {
                // Either the estimate was low or rounding carried into a new digit (9.99 → 10.0).
                var q2 = ScaledRound(a, significant - 2 - e);
                if (q2 < upper) return (q2.ToString(CultureInfo.InvariantCulture), e + 2);
                e++;
                continue;
            }
            if (q < BigInteger.Pow(10, significant - 1))
            {
                e--;
                continue;
            }
            return (q.ToString(CultureInfo.InvariantCulture), e + 1);
        }
        throw new InvalidOperationException("digit generation did not converge");
    }

    /// <summary>Python's <c>round(x, n)</c> for a float.</summary>
    public static double Round(double x, long n)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0) return x;
        if (n > 330) return x;
        if (n < -330) return Math.CopySign(0.0, x);
        var q = ScaledRound(Math.Abs(x), (int)n);
        double r = double.Parse(q.ToString(CultureInfo.InvariantCulture) + "e" + (-n).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (double.IsInfinity(r)) throw new PyException("OverflowError", "rounded value too large to represent");
        return Math.CopySign(r, x);
    }

    /// <summary>Python's <c>round(i, n)</c> for an int: unchanged for n ≥ 0, else half-even to a multiple of 10^-n.</summary>
    public static long RoundInt(long i, long n)
    {
        if (n >= 0) return i;
        if (n < -18) return 0;
        long m = (long)BigInteger.Pow(10, (int)-n);
        long q = Math.DivRem(Math.Abs(i), m, out long r);
        if (2 * r > m || (2 * r == m && (q & 1) == 1)) q++;
        return Math.Sign(i) * q * m;
    }
}
