using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// Python's <c>datetime.strftime</c> in the C locale (CPython hands the format to glibc's strftime): the C99
/// directives, glibc's extras (<c>%e %k %l %s %P %C %g %G %V %u %D %F %T %R %r %h %n %t</c>) and its flags
/// <c>-</c> (no padding), <c>_</c> (space padding), <c>0</c>, <c>^</c> (upper case). The time is naive, so
/// <c>%Z</c> and <c>%z</c> are empty.
/// </summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }
            int j = i + 1;
            char? flag = null;
            while (j < format.Length && format[j] is '-' or '_' or '0' or '^' or '#')
            {
                flag = format[j];
                j++;
            }
            int width = -1;
            int ws = j;
            while (j < format.Length && char.IsAsciiDigit(format[j])) j++;
            if (j > ws) width = PyFormat.Count(format[ws..j]);
            if (j >= format.Length)
            {
                sb.Append(format, i, format.Length - i);
                break;
            }
            char d = format[j];
            string? text = Directive(t, d, flag, width);
            if (text == null) sb.Append(format, i, j - i + 1);
            else sb.Append(text);
            i = j;
        }
        return sb.ToString();
    }

    private static string? Directive(DateTime t, char d, char? flag, int width)
    {
        string Num(long v, int digits, char pad = '0')
        {
            char p = flag switch { '-' => '\0', '_' => ' ', '0' => '0', _ => pad };
            int w = width >= 0 ? width : digits;
            string s = v.ToString(CultureInfo.InvariantCulture);
            if (p == '\0') return s;
            return s.PadLeft(w, p);
        }
        string Text(string s)
        {
            if (flag == '^') s = s.ToUpperInvariant();
            if (width > s.Length) s = s.PadLeft(width, flag == '0' ? '0' : ' ');
            return s;
        }
        int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
        return d switch
        {
            'a' => Text(Days[(int)t.DayOfWeek][..3]),
            'A' => Text(Days[(int)t.DayOfWeek]),
            'b' or 'h' => Text(Months[t.Month - 1][..3]),
            'B' => Text(Months[t.Month - 1]),
            'c' => Text(Format(t, "%a %b %e %H:%M:%S %Y")),
            'C' => Num(t.Year / 100, 2),
            'd' => Num(t.Day, 2),
            'D' => Text(Format(t, "%m/%d/%y")),
            'e' => Num(t.Day, 2, ' '),
            'F' => Text(Format(t, "%Y-%m-%d")),
            'f' => Num(t.Ticks % TimeSpan.TicksPerSecond / 10, 6),
            'g' => Num(ISOWeek.GetYear(t) % 100, 2),
            'G' => Num(ISOWeek.GetYear(t), 4),
            'H' => Num(t.Hour, 2),
            'I' => Num(hour12, 2),
            'j' => Num(t.DayOfYear, 3),
            'k' => Num(t.Hour, 2, ' '),
            'l' => Num(hour12, 2, ' '),
            'm' => Num(t.Month, 2),
            'M' => Num(t.Minute, 2),
            'n' => "\n",
            'p' => Text(t.Hour < 12 ? "AM" : "PM"),
            'P' => Text(t.Hour < 12 ? "am" : "pm"),
            'r' => Text(Format(t, "%I:%M:%S %p")),
            'R' => Text(Format(t, "%H:%M")),
            's' => Num((long)(t - DateTime.UnixEpoch).TotalSeconds, 1),
            'S' => Num(t.Second, 2),
            't' => "\t",
            'T' => Text(Format(t, "%H:%M:%S")),
            'u' => Num(t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek, 1),
            'U' => Num((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7, 2),
            'V' => Num(ISOWeek.GetWeekOfYear(t), 2),
            'w' => Num((int)t.DayOfWeek, 1),
            'W' => Num((t.DayOfYear + 6 - ((int)t.DayOfWeek + 6) % 7) / 7, 2),
            'x' => Text(Format(t, "%m/%d/%y")),
            'X' => Text(Format(t, "%H:%M:%S")),
            'y' => Num(t.Year % 100, 2),
            'Y' => Num(t.Year, 1),
            'z' or 'Z' => "",
            '%' => "%",
            _ => null,
        };
    }
}
