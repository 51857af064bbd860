using System.Text;

namespace DroSharp.Text.PreTokenizers;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c>: printable bytes <c>!</c>–<c>~</c>, <c>¡</c>–<c>¬</c>, <c>®</c>–<c>ÿ</c> map to
/// themselves, the other 68 bytes to U+0100 + n in byte order (space → Ġ U+0120, newline → Ċ U+010A).
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = Build();
    private static readonly short[] CharToByteTable = BuildReverse();

    private static char[] Build()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    private static short[] BuildReverse()
    {
        var rev = new short[324];
        Array.Fill(rev, (short)-1);
        for (int b = 0; b < 256; b++) rev[ByteToChar[b]] = (short)b;
        return rev;
    }

    /// <summary>The byte a byte-level character stands for, or -1.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>The 256 characters of the alphabet, in code point order.</summary>
    public static IEnumerable<char> Alphabet() => ByteToChar.Order();

    /// <summary>UTF-8 bytes of <paramref name="text"/>, each written as its alphabet character.</summary>
    public static string Encode(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> bytes = max <= 1024 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(text, bytes);
        Span<char> chars = n <= 1024 ? stackalloc char[n] : new char[n];
        for (int i = 0; i < n; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }
}
