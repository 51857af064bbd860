using System.CommandLine;
using System.Text.Json;
using DroSharp.Text.Templates;

namespace DroSharp.Cli;

/// <summary>
/// <c>--chat-template FILE</c> and <c>--chat-template-kwargs JSON</c>, shared by the commands that render
/// conversations (train, generate, score, chat, template), and loading what they name: the template file (with the
/// model directory's special tokens) or else the model directory's own template, and the extra variables.
/// </summary>
internal static class ChatTemplateOptions
{
    public const string TemplateDescription =
        "Jinja chat template file to use instead of the model's (tokenizer_config.json's chat_template or chat_template.jinja).";

    public const string KwargsDescription =
        "Extra chat template variables as a JSON object, e.g. '{\"enable_thinking\": false}' (TRL's chat_template_kwargs; a row's own chat_template_kwargs win).";

    public static Option<string?> Template() => new("--chat-template") { Description = TemplateDescription };

    public static Option<string?> Kwargs() => new("--chat-template-kwargs") { Description = KwargsDescription };

    /// <summary>The template of <paramref name="file"/> (with <paramref name="modelDirectory"/>'s special tokens), else the model's own, else null.</summary>
    public static ChatTemplate? Load(string modelDirectory, string? file)
    {
        if (file is not null)
        {
            if (!File.Exists(file)) throw new UserErrorException($"--chat-template: {file} does not exist");
            try { return ChatTemplate.FromFile(file, modelDirectory); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ChatTemplateException)
            {
                throw new UserErrorException($"--chat-template: {e.Message}");
            }
        }
        try { return ChatTemplate.FromModelDirectory(modelDirectory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException or ChatTemplateException)
        {
            throw new UserErrorException($"{modelDirectory}: chat template: {e.Message}");
        }
    }

    /// <summary>The variables of a JSON object (values as JSON, which the template sees as Python values); null for null.</summary>
    public static IReadOnlyDictionary<string, object?>? ParseKwargs(string? json, string source = "--chat-template-kwargs")
    {
        if (json is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UserErrorException($"{source}: expected a JSON object of template variables, e.g. '{{\"enable_thinking\": false}}'");
            return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        }
        catch (JsonException e)
        {
            throw new UserErrorException($"{source}: not valid JSON ({e.Message})");
        }
    }
}
