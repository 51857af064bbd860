using System.Text.Json;

namespace DroSharp.Text.Templates;

/// <summary>
/// A Hugging Face chat template, rendered as transformers' <c>apply_chat_template(..., tokenize=False)</c> does:
/// Jinja2 in an ImmutableSandboxedEnvironment with <c>trim_blocks</c>, <c>lstrip_blocks</c>, loop controls and
/// the <c>generation</c> tag, transformers' <c>tojson</c>, <c>raise_exception</c> and <c>strftime_now</c>, and the
/// variables <c>messages</c>, <c>tools</c>, <c>documents</c>, <c>add_generation_prompt</c>, the special tokens'
/// strings and any extra variables.
/// </summary>
public sealed class ChatTemplate
{
    private static readonly string[] SpecialTokenAttributes =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"];

    private static readonly HashSet<string> ReservedVariables = ["messages", "tools", "documents", "add_generation_prompt"];

    private readonly TemplateNode _template;

    /// <summary>Parses <paramref name="source"/>; a syntax error throws <see cref="ChatTemplateException"/> with its line and column.</summary>
    /// <param name="source">The Jinja template text.</param>
    /// <param name="specialTokens">Variables passed before the extra variables, as transformers passes <c>special_tokens_map</c>.</param>
    /// <param name="sourceName">Names the template in error messages (e.g. the file it came from).</param>
    public ChatTemplate(string source, IReadOnlyDictionary<string, object?>? specialTokens = null, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        SourceName = sourceName ?? "chat template";
        SpecialTokens = specialTokens ?? new Dictionary<string, object?>();
        try
        {
            _template = TemplateParser.Parse(source);
        }
        catch (PyException e)
        {
            throw ChatTemplateException.From(e, SourceName);
        }
    }

    public string Source { get; }

    public string SourceName { get; }

    /// <summary>
    /// The special tokens passed to the template (transformers' <c>special_tokens_map</c>: only the set ones,
    /// strings; <c>additional_special_tokens</c> a list of strings).
    /// </summary>
    public IReadOnlyDictionary<string, object?> SpecialTokens { get; }

    /// <summary>The clock behind <c>strftime_now</c> (Python's <c>datetime.now()</c>: local time). Tests freeze it.</summary>
    public Func<DateTime> Clock { get; set; } = () => DateTime.Now;

    /// <summary>
    /// The model directory's chat template, found as transformers finds it: <c>chat_template.jinja</c> (and named
    /// ones in <c>additional_chat_templates/</c>) if present, else <c>tokenizer_config.json</c>'s
    /// <c>chat_template</c> (a string, or a list of <c>{"name", "template"}</c>); with several, the one named
    /// <paramref name="templateName"/> or "default". Special tokens come from <c>tokenizer_config.json</c>.
    /// Returns null when the directory has no chat template.
    /// </summary>
    public static ChatTemplate? FromModelDirectory(string directory, string? templateName = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        JsonElement? config = null;
        if (File.Exists(configPath))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
                config = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new FormatException($"{configPath}: not valid JSON ({e.Message})", e);
            }
            if (config.Value.ValueKind != JsonValueKind.Object) throw new FormatException($"{configPath}: expected a JSON object");
            if (JsonStrings.FindInvalid(config.Value) is { } bad) throw new FormatException($"{configPath}: {bad} holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
        }

        var templates = new Dictionary<string, (string Text, string Source)>();
        string jinjaPath = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinjaPath)) templates["default"] = (File.ReadAllText(jinjaPath), jinjaPath);
        string extraDir = Path.Combine(directory, "additional_chat_templates");
        if (Directory.Exists(extraDir))
            foreach (var f in Directory.GetFiles(extraDir, "*.jinja").Order(StringComparer.Ordinal))
                templates[Path.GetFileNameWithoutExtension(f)] = (File.ReadAllText(f), f);
        if (templates.Count == 0 && config is { } c && c.TryGetProperty("chat_template", out var ct))
        {
            string where = $"{configPath} (chat_template)";
            switch (ct.ValueKind)
            {
                case JsonValueKind.String:
                    templates["default"] = (ct.GetString()!, where);
                    break;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (var t in ct.EnumerateArray())
                    {
                        if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                            || !t.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String)
                            throw new FormatException($"{configPath}: chat_template[{i}] must be {{\"name\": string, \"template\": string}}");
                        templates[n.GetString()!] = (body.GetString()!, $"{configPath} (chat_template \"{n.GetString()}\")");
                        i++;
                    }
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    throw new FormatException($"{configPath}: chat_template must be a string or a list of named templates, not {ct.ValueKind}");
            }
        }
        if (templates.Count == 0) return null;

        (string Text, string Source) chosen;
        if (templateName != null)
        {
            if (!templates.TryGetValue(templateName, out chosen))
                throw new ArgumentException($"{directory}: no chat template named \"{templateName}\"; available: {string.Join(", ", templates.Keys.Order(StringComparer.Ordinal))}");
        }
        else if (templates.TryGetValue("default", out chosen)) { }
        else
            throw new FormatException($"{directory}: this model has multiple chat templates and none is named \"default\"; choose one of: {string.Join(", ", templates.Keys.Order(StringComparer.Ordinal))}");
        var specials = config is { } cfg ? ReadSpecialTokens(cfg, directory) : new Dictionary<string, object?>();
        return new ChatTemplate(chosen.Text, specials, chosen.Source);
    }

    /// <summary>
    /// A chat template read from a Jinja file (as transformers' <c>chat_template.jinja</c>, or TRL's
    /// <c>--chat_template_path</c>), with the special tokens of <paramref name="modelDirectory"/>'s
    /// <c>tokenizer_config.json</c> (none without one), so <c>{{ bos_token }}</c> and the like render as the model's.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="FormatException">The model's tokenizer_config.json is not valid JSON.</exception>
    /// <exception cref="ChatTemplateException">The template does not parse (names the file, line and column).</exception>
    public static ChatTemplate FromFile(string templatePath, string? modelDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(templatePath);
        string source = File.ReadAllText(templatePath);
        var specials = new Dictionary<string, object?>();
        if (modelDirectory != null)
        {
            string configPath = Path.Combine(modelDirectory, "tokenizer_config.json");
            if (File.Exists(configPath))
            {
                try
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
                    if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"{configPath}: expected a JSON object");
                    specials = ReadSpecialTokens(doc.RootElement, modelDirectory);
                }
                catch (JsonException e)
                {
                    throw new FormatException($"{configPath}: not valid JSON ({e.Message})", e);
                }
            }
        }
        return new ChatTemplate(source, specials, templatePath);
    }

    /// <summary>
    /// transformers' <c>special_tokens_map</c> from a tokenizer_config.json: bos/eos/unk/sep/pad/cls/mask tokens,
    /// <c>additional_special_tokens</c> and the keys of <c>extra_special_tokens</c>, each a string or an AddedToken
    /// object's <c>content</c>; tokens that are null, empty or absent are left out. With no
    /// <c>added_tokens_decoder</c> in the config (legacy layout), <c>special_tokens_map.json</c> beside it is merged in.
    /// </summary>
    internal static Dictionary<string, object?> ReadSpecialTokens(JsonElement config, string directory)
    {
        var values = new Dictionary<string, JsonElement>();
        foreach (var p in config.EnumerateObject()) values[p.Name] = p.Value;
        var attributes = new List<string>(SpecialTokenAttributes);
        if (config.TryGetProperty("extra_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Object)
            foreach (var p in extra.EnumerateObject())
            {
                attributes.Add(p.Name);
                values[p.Name] = p.Value;
            }
        string mapPath = Path.Combine(directory, "special_tokens_map.json");
        if (!config.TryGetProperty("added_tokens_decoder", out _) && File.Exists(mapPath))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(mapPath));
                if (JsonStrings.FindInvalid(doc.RootElement) is { } bad) throw new FormatException($"{mapPath}: {bad} holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in doc.RootElement.EnumerateObject())
                    {
                        if (p.Name == "additional_special_tokens" && p.Value.ValueKind == JsonValueKind.Array && values.TryGetValue(p.Name, out var existing)
                            && existing.ValueKind == JsonValueKind.Array)
                        {
                            var merged = existing.EnumerateArray().Select(TokenString).Where(x => x != null).ToList();
                            foreach (var t in p.Value.EnumerateArray())
                                if (TokenString(t) is { } s && !merged.Contains(s)) merged.Add(s);
                            values[p.Name] = JsonSerializer.SerializeToElement(merged);
                        }
                        else values[p.Name] = p.Value.Clone();
                    }
                }
            }
            catch (JsonException e)
            {
                throw new FormatException($"{mapPath}: not valid JSON ({e.Message})", e);
            }
        }
        var result = new Dictionary<string, object?>();
        foreach (var attr in attributes)
        {
            if (!values.TryGetValue(attr, out var v)) continue;
            if (attr == "additional_special_tokens")
            {
                if (v.ValueKind != JsonValueKind.Array) continue;
                var list = v.EnumerateArray().Select(TokenString).Where(s => s != null).Cast<string>().ToList();
                if (list.Count > 0) result[attr] = list;
            }
            else if (TokenString(v) is { Length: > 0 } s) result[attr] = s;
        }
        return result;
    }

    private static string? TokenString(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
        _ => null,
    };

    /// <summary>
    /// Renders <paramref name="messages"/> as transformers does: the template sees <c>messages</c>, <c>tools</c>
    /// (None unless given), <c>documents</c> (None unless given), <c>add_generation_prompt</c>, the special tokens and
    /// <paramref name="extraVariables"/> (which override special tokens). With <paramref name="continueFinalMessage"/>
    /// the output is cut after the final message's content so a model continues it (transformers' rule).
    /// </summary>
    /// <exception cref="ChatTemplateException">A template error, or the template's <c>raise_exception(msg)</c> (message exactly <c>msg</c>).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt,
        IReadOnlyDictionary<string, object?>? extraVariables = null, bool continueFinalMessage = false,
        IReadOnlyList<object?>? tools = null, IReadOnlyList<object?>? documents = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Any(m => m == null)) throw new ArgumentException("messages must not contain null", nameof(messages));
        if (continueFinalMessage && addGenerationPrompt)
            throw new ArgumentException("continueFinalMessage and addGenerationPrompt are not compatible: use continueFinalMessage to let the model continue the final message, addGenerationPrompt to start a new assistant message");
        var variables = new Dictionary<string, object?>();
        foreach (var (k, v) in SpecialTokens) variables[k] = v;
        if (extraVariables != null)
            foreach (var (k, v) in extraVariables)
            {
                if (ReservedVariables.Contains(k)) throw new ArgumentException($"extra variable \"{k}\" is set by Render itself");
                variables[k] = v;
            }
        variables["messages"] = new PyList(messages.Select(m => (object?)m.ToPyDict()).ToList());
        variables["tools"] = tools == null ? null : Py.FromClr(tools);
        variables["documents"] = documents == null ? null : Py.FromClr(documents);
        variables["add_generation_prompt"] = addGenerationPrompt;
        string rendered = RenderVariables(variables);
        if (continueFinalMessage) rendered = CutAfterFinalMessage(rendered, messages);
        return rendered;
    }

    /// <summary>Renders with exactly <paramref name="variables"/> (plus the globals), like Jinja2's <c>template.render(**variables)</c>.</summary>
    public string RenderVariables(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var context = new Dictionary<string, object?>();
        Builtins.AddGlobals(context);
        foreach (var (k, v) in variables) context[k] = Py.FromClr(v);
        try
        {
            return new Interpreter(context, Clock).Render(_template);
        }
        catch (PyException e)
        {
            throw ChatTemplateException.From(e, SourceName);
        }
    }

    /// <summary>transformers' continue_final_message: cut the rendering right after the final message's (last text block's) content.</summary>
    private static string CutAfterFinalMessage(string rendered, IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0) throw new ArgumentException("continueFinalMessage needs at least one message");
        var content = Py.FromClr(messages[^1].Content);
        string? final = content as string;
        if (content is PyList blocks)
        {
            for (int i = blocks.Count - 1; i >= 0 && final == null; i--)
                if (blocks.Items[i] is PyDict d && d.TryGet("text", out var text)) final = text as string ?? Py.Str(text);
            if (final == null) throw new ArgumentException("continueFinalMessage is set but the final message has no text to continue");
        }
        if (final == null) throw new ArgumentException("continueFinalMessage is set but the final message's content is not a string");
        string stripped = PyString.Strip(final, null, true, true);
        int loc = rendered.LastIndexOf(stripped, StringComparison.Ordinal);
        if (loc < 0)
            throw new ArgumentException("continueFinalMessage is set but the final message does not appear in the chat after applying the chat template (the template deletes part of it)");
        // Python: if rendered[loc : loc + len(final.lstrip())] == final: keep through the lstripped length.
        string lstripped = PyString.Strip(final, null, true, false);
        int n = Math.Min(lstripped.Length, rendered.Length - loc);
        if (n == final.Length && string.CompareOrdinal(rendered, loc, final, 0, n) == 0) return rendered[..(loc + lstripped.Length)];
        return rendered[..(loc + stripped.Length)];
    }
}
