using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>The ChatTemplate API: loading from a model directory, variables, errors with positions, Python semantics.</summary>
public class ChatTemplateTests
{
    private static string Render(string template, object? vars = null)
    {
        var dict = vars == null ? new Dictionary<string, object?>() : JsonSerializer.SerializeToElement(vars).EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        return new ChatTemplate(template).RenderVariables(dict);
    }

    // ---- Python pitfalls (decoders.md §4, the goldens' README) ----

    [Fact]
    public void None_and_booleans_print_as_python_does() =>
        Assert.Equal("None True False 1.0 1e+16", Render("{{ none }} {{ true }} {{ false }} {{ 1.0 }} {{ 1e16 }}"));

    [Fact]
    public void Trim_and_strip_use_pythons_whitespace_set()
    {
        // \x1c-\x1f, NBSP and U+3000 are Python whitespace; U+FEFF and U+200B are not.
        Assert.Equal("[\uFEFFx\u200B]", Render("[{{ s | trim }}]", new { s = "\x1c\x1f\u00A0\u3000\uFEFFx\u200B\u3000 " }));
        Assert.Equal("[\uFEFFx\u200B]", Render("[{{ s.strip() }}]", new { s = "\x1c\x1f\u00A0\u3000\uFEFFx\u200B\u3000 " }));
    }

    [Fact]
    public void Dicts_compare_by_value_and_strings_are_iterable()
    {
        Assert.Equal("True", Render("{{ a == b }}", new { a = new { x = 1, y = new[] { 1, 2 } }, b = new { y = new[] { 1, 2 }, x = 1 } }));
        Assert.Equal("True True", Render("{{ 'x' is iterable }} {{ 'x' is string }}"));
        Assert.Equal("\"22.0\"", Render("{{ c | tojson if c is iterable else c }}", new { c = "22.0" }));
    }

    [Fact]
    public void String_filter_is_python_repr()
    {
        Assert.Equal("{'type': 'function', 'n': None, 'ok': True, 'f': 1.5, 'l': [1, 'a']}",
            Render("{{ t | string }}", new { t = new Dictionary<string, object?> { ["type"] = "function", ["n"] = null, ["ok"] = true, ["f"] = 1.5, ["l"] = new object[] { 1, "a" } } }));
    }

    [Fact]
    public void Tojson_is_json_dumps_with_ensure_ascii_off_and_key_order_kept()
    {
        var d = JsonNode.Parse("""{"b": "é<>&\"", "a": [1, 2.0, null, true]}""");
        Assert.Equal("{\"b\": \"é<>&\\\"\", \"a\": [1, 2.0, null, true]}", new ChatTemplate("{{ d | tojson }}").RenderVariables(new Dictionary<string, object?> { ["d"] = d }));
        Assert.Equal("{\n  \"b\": \"é<>&\\\"\",\n  \"a\": [\n    1,\n    2.0,\n    null,\n    true\n  ]\n}",
            new ChatTemplate("{{ d | tojson(indent=2) }}").RenderVariables(new Dictionary<string, object?> { ["d"] = d }));
    }

    [Fact]
    public void Slicing_reject_equalto_namespace_and_loop_variables()
    {
        Assert.Equal("cba|3,2,1", Render("{{ 'abc'[::-1] }}|{{ l[::-1] | join(',') }}", new { l = new[] { 1, 2, 3 } }));
        Assert.Equal("a, c", Render("{{ l | reject('equalto', 'b') | join(', ') }}", new { l = new[] { "a", "b", "c" } }));
        Assert.Equal("6", Render("{% set ns = namespace(t=0) %}{% for x in [1, 2, 3] %}{% set ns.t = ns.t + x %}{% endfor %}{{ ns.t }}"));
        Assert.Equal("0T1F2FL", Render("{% for x in 'abc' %}{{ loop.index0 }}{{ 'T' if loop.first else 'F' }}{% if loop.last %}L{% endif %}{% endfor %}"));
    }

    [Fact]
    public void One_trailing_newline_of_the_template_is_dropped() =>
        Assert.Equal("a\n", Render("a\n\n"));

    [Fact]
    public void Generation_tags_render_their_body()
    {
        Assert.Equal("<a>x</a>", Render("<a>{% generation %}x{% endgeneration %}</a>"));
    }

    [Fact]
    public void List_mutation_is_blocked_by_the_sandbox()
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render("{{ l.append(1) }}", new { l = new[] { 1 } }));
        Assert.Equal("SecurityError", e.ErrorType);
        Assert.EndsWith("access to attribute 'append' of 'list' object is unsafe.", e.Message);
    }

    // ---- errors name the line and column ----

    [Fact]
    public void Syntax_errors_name_line_and_column()
    {
        var e = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("line one\n  {{ a + }}", sourceName: "my.jinja"));
        Assert.Equal(2, e.Line);
        Assert.Equal(10, e.Column);
        Assert.Equal("my.jinja line 2, column 10: TemplateSyntaxError: unexpected 'end of print statement'", e.Message);
        Assert.False(e.RaisedByTemplate);

        var unclosed = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{% for m in messages %}\n{{ m }}"));
        Assert.Contains("line 2", unclosed.Message);
        Assert.Contains("Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.", unclosed.Message);

        var filter = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ x | frob }}"));
        Assert.Equal("chat template line 1, column 8: TemplateSyntaxError: No filter named 'frob'.", filter.Message);
    }

    [Fact]
    public void Runtime_errors_name_the_failing_expression()
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render("ok\n{% for m in messages %}{{ m.content + 1 }}{% endfor %}",
            new { messages = new[] { new { content = "x" } } }));
        Assert.Equal(2, e.Line);
        Assert.Equal(37, e.Column); // the '+'

        Assert.Equal("TypeError", e.ErrorType);
        Assert.Equal("chat template line 2, column 37: TypeError: can only concatenate str (not \"int\") to str", e.Message);

        var u = Assert.Throws<ChatTemplateException>(() => Render("{{ messages[0]['role'] }}", new { messages = Array.Empty<object>() }));
        Assert.Equal("chat template line 1, column 15: UndefinedError: list object has no element 0", u.Message);
    }

    [Fact]
    public void Raise_exception_message_is_exact()
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render("\n\n  {{ raise_exception('Roles must alternate ' ~ n) }}", new { n = 3 }));
        Assert.True(e.RaisedByTemplate);
        Assert.Equal("Roles must alternate 3", e.Message);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void Runaway_recursion_and_nesting_are_errors_not_crashes()
    {
        string macro = "{% macro f(n) %}{{ f(n + 1) if n < limit else n }}{% endmacro %}{{ f(0) }}";
        Assert.Equal("100", Render(macro, new { limit = 100 }));
        var e = Assert.Throws<ChatTemplateException>(() => Render(macro, new { limit = 100000 }));
        Assert.Equal("RecursionError", e.ErrorType);
        var deep = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}"));
        Assert.Equal("TemplateSyntaxError", deep.ErrorType);
    }

    // ---- Render: variables as transformers passes them ----

    [Fact]
    public void Render_passes_messages_tools_documents_generation_prompt_and_special_tokens()
    {
        var t = new ChatTemplate(
            "{{ bos_token }}|{{ eos_token is defined }}|{{ tools is none }}|{{ documents is none }}|{{ add_generation_prompt }}|{{ messages[0].role }}:{{ messages[0].content }}|{{ messages[0].name }}|{{ flag }}",
            new Dictionary<string, object?> { ["bos_token"] = "<s>" });
        var messages = new[] { new ChatMessage([new("role", "user"), new("content", "hi"), new("name", "ann")]) };
        Assert.Equal("<s>|False|True|True|True|user:hi|ann|7", t.Render(messages, true, new Dictionary<string, object?> { ["flag"] = 7 }));
        // extra variables override special tokens, as in transformers
        Assert.StartsWith("<x>|", t.Render(messages, false, new Dictionary<string, object?> { ["bos_token"] = "<x>" }));
        Assert.Contains("|False|", t.Render(messages, false, tools: new object?[] { new Dictionary<string, object?> { ["name"] = "f" } }));
        Assert.Throws<ArgumentException>(() => t.Render(messages, false, new Dictionary<string, object?> { ["messages"] = 1 }));
    }

    [Fact]
    public void Continue_final_message_cuts_after_the_final_content()
    {
        // transformers: keep the content as the template wrote it, or cut after its stripped form when the template trimmed it.
        var messages = new[] { new ChatMessage("user", "Q"), new ChatMessage("assistant", "The answer is  ") };
        var t = new ChatTemplate("{% for m in messages %}<{{ m.role }}>{{ m.content }}</end>{% endfor %}");
        Assert.Equal("<user>Q</end><assistant>The answer is  ", t.Render(messages, false, continueFinalMessage: true));
        var trimming = new ChatTemplate("{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}</end>{% endfor %}");
        Assert.Equal("<user>Q</end><assistant>The answer is", trimming.Render(messages, false, continueFinalMessage: true));
        Assert.Throws<ArgumentException>(() => t.Render(messages, true, continueFinalMessage: true));
    }

    [Fact]
    public void Strftime_now_reads_the_injected_clock()
    {
        var t = new ChatTemplate("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %-d %B %H:%M') }}") { Clock = () => new DateTime(2024, 7, 26, 14, 3, 0) };
        Assert.Equal("26 Jul 2024|Friday 26 July 14:03", t.Render([], false));
    }

    [Fact]
    public void Messages_convert_from_json_and_clr_values()
    {
        var json = ChatMessage.ListFromJson("""[{"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1.0}}}]}]""");
        var t = new ChatTemplate("{{ messages[0].content is none }}|{{ messages[0].tool_calls[0].function.arguments | tojson }}|{{ messages[0] | tojson }}");
        Assert.Equal("True|{\"x\": 1.0}|{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"function\": {\"name\": \"f\", \"arguments\": {\"x\": 1.0}}}]}",
            t.Render(json, false));
        var node = ChatMessage.FromJsonNode(JsonNode.Parse("""{"role": "user", "content": [{"type": "text", "text": "hi"}]}""")!);
        Assert.Equal("hi", new ChatTemplate("{{ messages[0].content[0].text }}").Render([node], false));
        Assert.Throws<FormatException>(() => ChatMessage.ListFromJson("""[{"content": "no role"}]"""));
    }

    // ---- FromModelDirectory ----

    [Fact]
    public void From_model_directory_prefers_chat_template_jinja_and_reads_special_tokens()
    {
        using (var temp = new TempDirectory("drosharp-chat-"))
        {
            string dir = temp.Path;
            Assert.Null(ChatTemplate.FromModelDirectory(dir));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
                {"chat_template": "config {{ bos_token }}",
                 "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "unk_token": null, "pad_token": "",
                 "additional_special_tokens": ["<a>", {"content": "<b>"}],
                 "added_tokens_decoder": {}}
                """);
            var fromConfig = ChatTemplate.FromModelDirectory(dir)!;
            Assert.Equal("config <s>", fromConfig.Render([], false));
            Assert.Equal(["additional_special_tokens", "bos_token", "eos_token"], fromConfig.SpecialTokens.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new[] { "<a>", "<b>" }, (IEnumerable<string>)fromConfig.SpecialTokens["additional_special_tokens"]!);

            File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), "jinja {{ eos_token }}\n");
            var fromFile = ChatTemplate.FromModelDirectory(dir)!;
            Assert.Equal("jinja </s>", fromFile.Render([], false));
            Assert.EndsWith("chat_template.jinja", fromFile.SourceName);
        }
    }

    [Fact]
    public void From_model_directory_picks_the_default_of_named_templates()
    {
        using (var temp = new TempDirectory("drosharp-chat-"))
        {
            string dir = temp.Path;
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
                """);
            Assert.Equal("D", ChatTemplate.FromModelDirectory(dir)!.Render([], false));
            Assert.Equal("T", ChatTemplate.FromModelDirectory(dir, "tool_use")!.Render([], false));
            Assert.Throws<ArgumentException>(() => ChatTemplate.FromModelDirectory(dir, "rag"));

            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"chat_template": [{"name": "tool_use", "template": "T"}]}""");
            var e = Assert.Throws<FormatException>(() => ChatTemplate.FromModelDirectory(dir));
            Assert.Contains("tool_use", e.Message);

            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"chat_template": 5}""");
            Assert.Throws<FormatException>(() => ChatTemplate.FromModelDirectory(dir));
        }
    }
}
