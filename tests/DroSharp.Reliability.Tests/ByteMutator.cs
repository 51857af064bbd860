namespace DroSharp.Reliability.Tests;

/// <summary>
/// AFL-like havoc mutations without instrumentation, seeded: bit flips, interesting bytes and numbers, deleted,
/// duplicated or inserted runs, splices with another seed, truncation. Enough to keep the fuzz harness honest in
/// the test suite; the real campaign is fuzz/run-all.sh.
/// </summary>
internal sealed class ByteMutator(int seed)
{
    private static readonly byte[][] Tokens =
    [
        "0"u8.ToArray(), "-1"u8.ToArray(), "1e300"u8.ToArray(), "-1e999"u8.ToArray(), "NaN"u8.ToArray(), "null"u8.ToArray(), "\"\""u8.ToArray(),
        "[]"u8.ToArray(), "{}"u8.ToArray(), "4294967296"u8.ToArray(), "9223372036854775807"u8.ToArray(), "\\u0000"u8.ToArray(), "\xff\xfe"u8.ToArray(),
        "\\uD800"u8.ToArray(), "\\uDC00"u8.ToArray(), "{{"u8.ToArray(), "{%"u8.ToArray(), "%}"u8.ToArray(), "}}"u8.ToArray(), "\n"u8.ToArray(), ","u8.ToArray(), "\""u8.ToArray(),
    ];

    private readonly Random _rng = new(seed);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> others)
    {
        var b = new List<byte>(input);
        int rounds = 1 << _rng.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            int at = b.Count == 0 ? 0 : _rng.Next(b.Count);
            switch (_rng.Next(9))
            {
                case 0 when b.Count > 0: b[at] ^= (byte)(1 << _rng.Next(8)); break;
                case 1 when b.Count > 0: b[at] = (byte)(_rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => _rng.Next(256) }); break;
                case 2 when b.Count > 0: b.RemoveRange(at, Math.Min(b.Count - at, 1 + _rng.Next(16))); break;
                case 3 when b.Count > 0: b.InsertRange(at, b.GetRange(at, Math.Min(b.Count - at, 1 + _rng.Next(32)))); break;
                case 4: b.InsertRange(at, Tokens[_rng.Next(Tokens.Length)]); break;
                case 5 when b.Count > 0:
                    {
                        var t = Tokens[_rng.Next(Tokens.Length)];
                        int n = Math.Min(t.Length, b.Count - at);
                        for (int i = 0; i < n; i++) b[at + i] = t[i];
                        break;
                    }
                case 6 when others.Count > 0:
                    {
                        var o = others[_rng.Next(others.Count)];
                        if (o.Length == 0) break;
                        int from = _rng.Next(o.Length);
                        b.InsertRange(at, o.AsSpan(from, Math.Min(o.Length - from, 1 + _rng.Next(64))).ToArray());
                        break;
                    }
                case 7 when b.Count > 1: b.RemoveRange(at, b.Count - at); break;
                default: b.Insert(at, (byte)_rng.Next(256)); break;
            }
        }
        return b.ToArray();
    }
}
