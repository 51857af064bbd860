using System.Text;

namespace DroSharp.Alignment.Data;

/// <summary>
/// RFC 4180 records from text: fields separated by the delimiter, records by LF or CRLF, fields that contain
/// the delimiter, a quote or a line break enclosed in double quotes, a quote inside written twice. Line breaks
/// inside quoted fields are kept as written. A quote inside an unquoted field is taken literally (as Python's
/// csv module does). Blank lines are skipped. Each record knows the physical lines it spans.
/// </summary>
internal static class CsvRecordParser
{
    /// <summary>One record, or a malformed one (<see cref="Error"/> set; <see cref="Fatal"/> when parsing cannot go on).</summary>
    public readonly record struct Record(int StartLine, int EndLine, string[]? Fields, string? Error, bool Fatal);

    public static IEnumerable<Record> Parse(string text, char delimiter)
    {
        int pos = 0, line = 1, n = text.Length;
        var fields = new List<string>();
        var sb = new StringBuilder();
        while (pos < n)
        {
            int start = line;
            // Blank line (possibly "\r"): not a record.
            int eol = text.IndexOf('\n', pos);
            int lineEnd = eol < 0 ? n : eol;
            if (lineEnd == pos || (lineEnd == pos + 1 && text[pos] == '\r'))
            {
                pos = eol < 0 ? n : eol + 1;
                line++;
                continue;
            }
            fields.Clear();
            string? error = null;
            bool fatal = false;
            while (true)
            {
                sb.Clear();
                if (pos < n && text[pos] == '"')
                {
                    int fieldLine = line;
                    pos++;
                    bool closed = false;
                    while (true)
                    {
                        int quote = text.IndexOf('"', pos);
                        if (quote < 0) break;
                        var chunk = text.AsSpan(pos, quote - pos);
                        line += chunk.Count('\n');
                        sb.Append(chunk);
                        if (quote + 1 < n && text[quote + 1] == '"') { sb.Append('"'); pos = quote + 2; continue; }
                        pos = quote + 1;
                        closed = true;
                        break;
                    }
                    if (!closed)
                    {
                        error = $"the quoted field {fields.Count + 1} opened on line {fieldLine} is never closed";
                        fatal = true;
                        break;
                    }
                    fields.Add(sb.ToString());
                    if (pos >= n) break;
                    char next = text[pos];
                    if (next == delimiter) { pos++; continue; }
                    if (next == '\n') break;
                    if (next == '\r' && (pos + 1 >= n || text[pos + 1] == '\n')) { pos++; break; }
                    error = $"unexpected character '{next}' after the closing quote of field {fields.Count}; a quote inside a quoted field must be doubled (\"\")";
                    // Resynchronise at the end of this physical line.
                    int skipTo = text.IndexOf('\n', pos);
                    pos = skipTo < 0 ? n : skipTo;
                    break;
                }
                else
                {
                    int fieldStart = pos;
                    int stop = text.AsSpan(pos).IndexOfAny(delimiter, '\n');
                    pos = stop < 0 ? n : pos + stop;
                    int fieldEnd = pos;
                    if ((pos >= n || text[pos] == '\n') && fieldEnd > fieldStart && text[fieldEnd - 1] == '\r') fieldEnd--;
                    fields.Add(text[fieldStart..fieldEnd]);
                    if (pos < n && text[pos] == delimiter) { pos++; continue; }
                    break;
                }
            }
            int end = line;
            if (pos < n && text[pos] == '\n') { pos++; line++; }
            yield return new Record(start, end, error is null ? fields.ToArray() : null, error, fatal);
            if (fatal) yield break;
        }
    }
}
