namespace DroSharp.Text.Templates;

/// <summary>Jinja2's <c>namespace()</c>: attributes that <c>{% set ns.x = … %}</c> may assign from any scope.</summary>
internal sealed class Namespace
{
    public Namespace(PyDict attributes) => Attributes = attributes;

    public PyDict Attributes { get; }

    public override string ToString() => $"<Namespace {Py.Repr(Attributes)}>";
}
