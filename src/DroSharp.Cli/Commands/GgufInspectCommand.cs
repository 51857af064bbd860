using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using DroSharp.Models.Gguf;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro gguf inspect FILE [--json] [--max-array N]</c>: a GGUF file's header, metadata and tensors
/// (<see cref="GgufReader.Describe"/>), or the same as one JSON object. A malformed file is a one-line error
/// naming the field at fault (the reader validates everything before printing anything).
/// </summary>
public static class GgufInspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The GGUF file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: {path, version, file_bytes, alignment, architecture, metadata: {key: {type, value[, count]}}, tensors: [{name, type, shape, offset, bytes}]}." };
        var maxArray = new Option<int>("--max-array") { Description = "Array elements shown per metadata value (0: all).", DefaultValueFactory = _ => 8 };
        var cmd = new Command("inspect", "Print a GGUF file's metadata and tensors (shapes outermost first, as safetensors).");
        cmd.Arguments.Add(file);
        cmd.Options.Add(json);
        cmd.Options.Add(maxArray);
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            int max = parse.GetValue(maxArray);
            if (max < 0) throw new UserErrorException("--max-array must be 0 (all) or positive");
            if (Directory.Exists(path)) throw new UserErrorException($"{path} is a directory, not a GGUF file");
            if (!File.Exists(path)) throw new UserErrorException($"{path} does not exist");
            using var reader = GgufReader.Open(path);
            if (parse.GetValue(json)) WriteJson(reader, max == 0 ? int.MaxValue : max, Console.Out);
            else
                foreach (string line in reader.Describe(max == 0 ? int.MaxValue : max)) Console.WriteLine(line);
            return 0;
        });
        return cmd;
    }

    /// <summary>The file as one indented JSON object and a newline.</summary>
    public static void WriteJson(GgufReader reader, int maxArrayElements, TextWriter output)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("path", reader.FilePath);
            w.WriteNumber("version", reader.Version);
            w.WriteNumber("file_bytes", reader.FileLength);
            w.WriteNumber("alignment", reader.Alignment);
            if (reader.Architecture is { } arch) w.WriteString("architecture", arch);
            else w.WriteNull("architecture");
            w.WriteStartObject("metadata");
            foreach (var (key, value) in reader.Metadata)
            {
                w.WriteStartObject(key);
                w.WriteString("type", value.Describe());
                w.WritePropertyName("value");
                if (value.IsArray)
                {
                    var array = (Array)value.RawValue;
                    long shown = Math.Min(array.LongLength, maxArrayElements);
                    w.WriteStartArray();
                    for (long i = 0; i < shown; i++) WriteScalar(w, array.GetValue(i)!);
                    w.WriteEndArray();
                    w.WriteNumber("count", array.LongLength);
                }
                else WriteScalar(w, value.RawValue);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("tensors");
            foreach (var t in reader.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("type", GgufTensorTypes.Name(t.Type));
                w.WriteStartArray("shape");
                foreach (long d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("offset", t.Offset);
                w.WriteNumber("bytes", t.ByteLength);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteScalar(Utf8JsonWriter w, object v)
    {
        switch (v)
        {
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float or double: w.WriteStringValue(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)); break; // NaN, ±Infinity: no JSON number
            case ulong u: w.WriteNumberValue(u); break;
            default: w.WriteNumberValue(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }
}
