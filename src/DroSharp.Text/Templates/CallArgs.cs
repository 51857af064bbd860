namespace DroSharp.Text.Templates;

/// <summary>
/// Positional and keyword arguments of one call, with Python-style binding to a signature
/// (<see cref="Bind"/> raises Python's TypeError messages for missing, duplicate or unexpected arguments).
/// </summary>
internal sealed class CallArgs
{
    public static readonly CallArgs Empty = new(new List<object?>(), new List<KeyValuePair<string, object?>>());

    public CallArgs(List<object?> positional, List<KeyValuePair<string, object?>> keywords)
    {
        Positional = positional;
        Keywords = keywords;
    }

    public List<object?> Positional { get; }
    public List<KeyValuePair<string, object?>> Keywords { get; }

    public static CallArgs Of(params object?[] positional) => new(new List<object?>(positional), new List<KeyValuePair<string, object?>>());

    public CallArgs Prepend(object? first)
    {
        var p = new List<object?>(Positional.Count + 1) { first };
        p.AddRange(Positional);
        return new CallArgs(p, Keywords);
    }

    /// <summary>
    /// Binds to parameters <paramref name="names"/>; the last <paramref name="defaults"/>.Length parameters
    /// have defaults. Returns one value per parameter.
    /// </summary>
    public object?[] Bind(string function, string[] names, params object?[] defaults)
    {
        if (Positional.Count > names.Length)
            throw PyException.Type($"{function}() takes {(defaults.Length > 0 ? "at most " : "")}{names.Length} positional argument{(names.Length == 1 ? "" : "s")} but {Positional.Count} were given");
        var result = new object?[names.Length];
        var set = new bool[names.Length];
        for (int i = 0; i < Positional.Count; i++)
        {
            result[i] = Positional[i];
            set[i] = true;
        }
        foreach (var (k, v) in Keywords)
        {
            int i = Array.IndexOf(names, k);
            if (i < 0) throw PyException.Type($"{function}() got an unexpected keyword argument '{k}'");
            if (set[i]) throw PyException.Type($"{function}() got multiple values for argument '{k}'");
            result[i] = v;
            set[i] = true;
        }
        int firstDefault = names.Length - defaults.Length;
        var missing = new List<string>();
        for (int i = 0; i < names.Length; i++)
        {
            if (set[i]) continue;
            if (i < firstDefault) missing.Add($"'{names[i]}'");
            else result[i] = defaults[i - firstDefault];
        }
        if (missing.Count > 0)
        {
            string list = missing.Count == 1 ? missing[0] : string.Join(", ", missing.Take(missing.Count - 1)) + " and " + missing[^1];
            throw PyException.Type($"{function}() missing {missing.Count} required positional argument{(missing.Count == 1 ? "" : "s")}: {list}");
        }
        return result;
    }

    public void NoKeywords(string function)
    {
        if (Keywords.Count > 0) throw PyException.Type($"{function}() takes no keyword arguments");
    }
}
