using System.Globalization;
using System.Text;

namespace DroSharp.Models.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar (u8…f64, bool, string) or an array of one scalar type (GGUF has no
/// arrays of arrays that llama.cpp reads, so neither do we). Scalars are held boxed as their .NET type
/// (byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long, double), arrays as the
/// matching .NET array (byte[], …, string[]).
/// </summary>
public sealed class GgufValue
{
    private readonly object _value;

    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        _value = value;
    }

    /// <summary>The stored type; <see cref="GgufValueType.Array"/> for arrays.</summary>
    public GgufValueType Type { get; }

    /// <summary>For an array, the type of its elements; otherwise equal to <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>The boxed scalar or the typed array (see the class remarks).</summary>
    public object RawValue => _value;

    /// <summary>Number of elements of an array, 1 for a scalar.</summary>
    public long Count => IsArray ? ((Array)_value).LongLength : 1;

    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, GgufValueType.Bool, v);
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, GgufValueType.Float64, v);

    public static GgufValue String(string v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new(GgufValueType.String, GgufValueType.String, v);
    }

    public static GgufValue Array(byte[] v) => MakeArray(GgufValueType.UInt8, v);
    public static GgufValue Array(sbyte[] v) => MakeArray(GgufValueType.Int8, v);
    public static GgufValue Array(ushort[] v) => MakeArray(GgufValueType.UInt16, v);
    public static GgufValue Array(short[] v) => MakeArray(GgufValueType.Int16, v);
    public static GgufValue Array(uint[] v) => MakeArray(GgufValueType.UInt32, v);
    public static GgufValue Array(int[] v) => MakeArray(GgufValueType.Int32, v);
    public static GgufValue Array(float[] v) => MakeArray(GgufValueType.Float32, v);
    public static GgufValue Array(bool[] v) => MakeArray(GgufValueType.Bool, v);
    public static GgufValue Array(ulong[] v) => MakeArray(GgufValueType.UInt64, v);
    public static GgufValue Array(long[] v) => MakeArray(GgufValueType.Int64, v);
    public static GgufValue Array(double[] v) => MakeArray(GgufValueType.Float64, v);

    public static GgufValue Array(string[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Any(s => s is null)) throw new ArgumentException("a string array element is null", nameof(v));
        return new(GgufValueType.Array, GgufValueType.String, v);
    }

    private static GgufValue MakeArray(GgufValueType elementType, System.Array v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new(GgufValueType.Array, elementType, v);
    }

    /// <summary>The string value; throws unless <see cref="Type"/> is String.</summary>
    public string AsString() => _value as string ?? throw Mismatch("a string");

    public bool AsBool() => _value is bool b ? b : throw Mismatch("a bool");

    /// <summary>Any integer scalar (u8…u64, i8…i64) as a long; a u64 above long.MaxValue throws.</summary>
    public long AsInt64() => _value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        ulong v => throw new InvalidOperationException($"u64 value {v} does not fit a long"),
        _ => throw Mismatch("an integer"),
    };

    /// <summary>Any integer or floating scalar as a double.</summary>
    public double AsDouble() => _value switch
    {
        float v => v,
        double v => v,
        ulong v => v,
        _ when !IsArray && Type != GgufValueType.Bool && Type != GgufValueType.String => AsInt64(),
        _ => throw Mismatch("a number"),
    };

    /// <summary>The typed array (e.g. <c>AsArray&lt;string&gt;()</c> for a string array); throws on a type mismatch.</summary>
    public T[] AsArray<T>() => _value as T[] ?? throw Mismatch($"an array of {typeof(T).Name}");

    private InvalidOperationException Mismatch(string wanted) =>
        new($"the value is {Describe()}, not {wanted}");

    /// <summary>"u32", "str", "arr[i32,512]" …, as llama.cpp's gguf dump prints types.</summary>
    public string Describe() => IsArray ? $"arr[{TypeName(ElementType)},{Count}]" : TypeName(Type);

    public static string TypeName(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => "u8",
        GgufValueType.Int8 => "i8",
        GgufValueType.UInt16 => "u16",
        GgufValueType.Int16 => "i16",
        GgufValueType.UInt32 => "u32",
        GgufValueType.Int32 => "i32",
        GgufValueType.Float32 => "f32",
        GgufValueType.Bool => "bool",
        GgufValueType.String => "str",
        GgufValueType.Array => "arr",
        GgufValueType.UInt64 => "u64",
        GgufValueType.Int64 => "i64",
        GgufValueType.Float64 => "f64",
        _ => $"type {(uint)type}",
    };

    /// <summary>A one-line rendering for inspection: scalars in full (strings quoted, long ones cut), arrays by their first elements.</summary>
    public string ToDisplayString(int maxArrayElements = 8, int maxStringLength = 80)
    {
        if (!IsArray) return Format(_value, maxStringLength);
        var array = (System.Array)_value;
        var sb = new StringBuilder("[");
        int shown = (int)Math.Min(array.LongLength, maxArrayElements);
        for (int i = 0; i < shown; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Format(array.GetValue(i)!, maxStringLength));
        }
        if (array.LongLength > shown) sb.Append($", … ({array.LongLength} in all)");
        return sb.Append(']').ToString();
    }

    private static string Format(object v, int maxStringLength) => v switch
    {
        string s => Quote(s.Length > maxStringLength ? s[..maxStringLength] + "…" : s),
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append($"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public override string ToString() => $"{Describe()} {ToDisplayString()}";
}
