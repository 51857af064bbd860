using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Text;

namespace DroSharp.Cli;

/// <summary>
/// Writes a model directory's <c>tokenizer_config.json</c> as transformers' <c>PreTrainedTokenizerFast.save_pretrained</c>
/// lays it out (keys sorted, <c>added_tokens_decoder</c> by id, special tokens by their strings, the chat template inline),
/// so <c>AutoTokenizer.from_pretrained</c> loads the directory with its chat template and end-of-turn token.
/// </summary>
internal static class TokenizerConfigFile
{
    /// <param name="directory">The model directory (its tokenizer.json beside the file).</param>
    /// <param name="tokenizer">The tokenizer, for its added tokens and default special tokens.</param>
    /// <param name="baseConfig">An existing tokenizer_config.json to start from (its other keys kept), or null.</param>
    /// <param name="chatTemplate">The Jinja chat template text, or null to keep the base one (if any).</param>
    /// <param name="eosToken">The end-of-sequence token (a chat model's end-of-turn token), or null for the tokenizer's.</param>
    public static void Write(string directory, Tokenizer tokenizer, string? baseConfig, string? chatTemplate, string? eosToken)
    {
        var config = baseConfig is null ? new JsonObject() : JsonNode.Parse(File.ReadAllText(baseConfig, Encoding.UTF8)) as JsonObject
            ?? throw new UserErrorException($"{baseConfig}: expected a JSON object");
        string? Token(int? id) => id is int i ? tokenizer.IdToToken(i) : null;
        var added = new JsonObject();
        foreach (var t in tokenizer.AddedTokens.OrderBy(t => t.Id))
            added[t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = t.Content,
                ["lstrip"] = t.LStrip,
                ["normalized"] = t.Normalized,
                ["rstrip"] = t.RStrip,
                ["single_word"] = t.SingleWord,
                ["special"] = t.Special,
            };
        config["added_tokens_decoder"] = added;
        if (!config.ContainsKey("bos_token")) config["bos_token"] = Token(tokenizer.BosId);
        if (eosToken is not null || !config.ContainsKey("eos_token")) config["eos_token"] = eosToken ?? Token(tokenizer.EosId);
        if (!config.ContainsKey("pad_token")) config["pad_token"] = Token(tokenizer.PadId);
        if (!config.ContainsKey("unk_token")) config["unk_token"] = Token(tokenizer.UnkId);
        if (chatTemplate is not null) config["chat_template"] = chatTemplate;
        if (!config.ContainsKey("clean_up_tokenization_spaces")) config["clean_up_tokenization_spaces"] = false;
        if (!config.ContainsKey("extra_special_tokens")) config["extra_special_tokens"] = new JsonObject();
        if (!config.ContainsKey("tokenizer_class")) config["tokenizer_class"] = "PreTrainedTokenizerFast";
        var sorted = new JsonObject();
        foreach (var (k, v) in config.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sorted[k] = v?.DeepClone();
        string text = sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), text.Replace("\r\n", "\n") + "\n", new UTF8Encoding(false));
    }
}
