using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace DroSharp.Alignment.Data;

/// <summary>
/// A file's bytes decoded strictly as UTF-8, line by line, so that an invalid byte is reported on its own
/// line (and, under skip-bad-rows, costs only that row). A leading BOM is dropped. Lines split on '\n'; a
/// '\r' before it stays in the line text (callers trim it where the format says so).
/// </summary>
internal sealed class DecodedText
{
    private DecodedText(List<string> lines, Dictionary<int, int> badLines)
    {
        Lines = lines;
        BadLines = badLines;
    }

    /// <summary>Line i (0-based) holds physical line i + 1; invalid bytes are replaced by U+FFFD.</summary>
    public List<string> Lines { get; }

    /// <summary>1-based line → 1-based byte column of the first invalid byte.</summary>
    public Dictionary<int, int> BadLines { get; }

    /// <summary>The whole text (lines joined by '\n', so identical to the file apart from invalid bytes).</summary>
    public string Joined() => string.Join('\n', Lines);

    /// <summary>The first line in [first, last] with invalid UTF-8, if any.</summary>
    public bool TryFindBadLine(int first, int last, out int line, out int column)
    {
        for (line = first; line <= last; line++)
            if (BadLines.TryGetValue(line, out column)) return true;
        line = 0;
        column = 0;
        return false;
    }

    public static DecodedText Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        var lines = new List<string>();
        var bad = new Dictionary<int, int>();
        char[] buffer = ArrayPool<char>.Shared.Rent(256);
        try
        {
            while (true)
            {
                int nl = bytes.IndexOf((byte)'\n');
                ReadOnlySpan<byte> line = nl >= 0 ? bytes[..nl] : bytes;
                if (buffer.Length < line.Length)
                {
                    ArrayPool<char>.Shared.Return(buffer);
                    buffer = ArrayPool<char>.Shared.Rent(line.Length);
                }
                var status = Utf8.ToUtf16(line, buffer, out int read, out int written, replaceInvalidSequences: false);
                if (status == OperationStatus.Done)
                {
                    lines.Add(new string(buffer, 0, written));
                }
                else
                {
                    bad[lines.Count + 1] = read + 1;
                    lines.Add(Encoding.UTF8.GetString(line));
                }
                if (nl < 0) break;
                bytes = bytes[(nl + 1)..];
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
        // A final '\n' ends the last line rather than starting an empty one.
        if (lines.Count > 1 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return new DecodedText(lines, bad);
    }
}
