using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary><see cref="ChatTemplate.FromFile"/>: a template file rendered with a model directory's special tokens.</summary>
public class ChatTemplateFileTests
{
    [Fact]
    public void A_template_file_takes_the_model_directorys_special_tokens_and_names_itself_in_errors()
    {
        using (var temp = new TempDirectory("drosharp-template-"))
        {
            string dir = temp.Path;
            string file = Path.Combine(dir, "mine.jinja");
            File.WriteAllText(file, "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}");
            var gemma = ChatTemplate.FromFile(file, Fixtures.PathOf(Path.Combine("chat-templates", "gemma-3-it")));
            Assert.Equal("<bos>[user] hi<end_of_turn>", gemma.Render([new ChatMessage("user", "hi")], addGenerationPrompt: false));
            Assert.Equal(file, gemma.SourceName);
            var bare = ChatTemplate.FromFile(file);
            Assert.Equal("[user] hi", bare.Render([new ChatMessage("user", "hi")], addGenerationPrompt: false));

            File.WriteAllText(file, "line one\n{% if %}");
            var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromFile(file));
            Assert.StartsWith($"{file} line 2", e.Message);
            Assert.Throws<FileNotFoundException>(() => ChatTemplate.FromFile(Path.Combine(dir, "missing.jinja")));
        }
    }
}
