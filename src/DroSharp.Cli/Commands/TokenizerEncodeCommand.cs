using System.CommandLine;
using DroSharp.Text;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro tokenizer encode --tokenizer FILE TEXT</c>: ids, tokens and the decoded text.</summary>
public static class TokenizerEncodeCommand
{
    public static Command Create()
    {
        var tokenizerFile = new Option<FileInfo>("--tokenizer") { Description = "A tokenizer.json (or .json.gz).", Required = true };
        var noSpecial = new Option<bool>("--no-special-tokens") { Description = "Do not add the post-processor's special tokens (T5's </s>)." };
        var text = new Argument<string>("text") { Description = "The text to encode." };
        var cmd = new Command("encode", "Encode a text with a tokenizer.json and print the ids, tokens and decoded text.");
        cmd.Options.Add(tokenizerFile);
        cmd.Options.Add(noSpecial);
        cmd.Arguments.Add(text);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(tokenizerFile)!;
            if (!file.Exists) throw new UserErrorException($"--tokenizer: {file.FullName} does not exist");
            Tokenizer tok;
            try
            {
                tok = Tokenizer.FromFile(file.FullName);
            }
            catch (Exception e) when (e is FormatException or NotSupportedException or IOException)
            {
                throw new UserErrorException(e.Message);
            }
            var enc = tok.Encode(parse.GetValue(text)!, addSpecialTokens: !parse.GetValue(noSpecial));
            Console.WriteLine($"ids: [{string.Join(", ", enc.Ids)}]");
            Console.WriteLine($"tokens: [{string.Join(", ", enc.Tokens.Select(t => System.Text.Json.JsonSerializer.Serialize(t)))}]");
            Console.WriteLine($"decoded: {System.Text.Json.JsonSerializer.Serialize(tok.Decode(enc.Ids, skipSpecialTokens: true))}");
            return 0;
        });
        return cmd;
    }
}
