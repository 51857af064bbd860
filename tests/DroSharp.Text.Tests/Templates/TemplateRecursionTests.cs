using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>
/// Issue 15 (found by the fuzzer): data that holds itself or nests very deeply made repr, == and tojson recurse
/// until the stack overflowed, which ends the process. Now they behave as in Python: [...] / {...} for a container
/// inside itself, RecursionError for nesting deeper than 400 (tojson also refuses a cycle, as json.dumps does).
/// </summary>
public sealed class TemplateRecursionTests
{
    private static string Render(string source) => new ChatTemplate(source).RenderVariables(new Dictionary<string, object?>());

    [Fact]
    public void ANamespaceHoldingItselfPrintsLikePython()
    {
        // Jinja2: <Namespace {'a': 0, 'b': <Namespace {...}>}>
        Assert.Equal("<Namespace {'a': 0, 'b': <Namespace {...}>}>", Render("{% set ns = namespace(a=0) %}{% set ns.b = ns %}{{ ns }}"));
    }

    [Fact]
    public void AListOrDictHoldingItselfThroughANamespacePrintsLikePython()
    {
        // The sandbox forbids list.append and dict.update: a namespace attribute is the only way to make a cycle.
        Assert.Equal("[1, <Namespace {'l': [...]}>]", Render("{% set ns = namespace() %}{% set ns.l = [1, ns] %}{{ ns.l }}"));
        Assert.Equal("{'k': <Namespace {'d': {...}}>}", Render("{% set ns = namespace() %}{% set ns.d = {'k': ns} %}{{ ns.d }}"));
    }

    [Theory]
    [InlineData("{{ '%2222222222d' % 5 }}")]
    [InlineData("{{ '%.99999999999f' % 1.5 }}")]
    [InlineData("{{ '{99999999999}'.format(1) }}")]
    public void WidthsAndIndexesBeyondInt32AreOverflowErrors(string source)
    {
        // Found by the fuzzer: int.Parse threw OverflowException (a crash); Python raises OverflowError/ValueError.
        var e = Assert.Throws<ChatTemplateException>(() => Render(source));
        Assert.Contains("OverflowError", e.Message);
    }

    [Fact]
    public void VeryDeepNestingIsARecursionErrorNotAStackOverflow()
    {
        const string deep = "{% set ns = namespace(x=0) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}";
        foreach (var use in new[] { "{{ ns.x }}", "{{ ns.x | tojson }}", "{{ ns.x == ns.x[0] }}" })
        {
            var e = Assert.Throws<ChatTemplateException>(() => Render(deep + use));
            Assert.Contains("RecursionError", e.Message);
        }
        Assert.Equal("[[[0]]]", Render("{% set ns = namespace(x=0) %}{% for i in range(3) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}"));
    }
}
