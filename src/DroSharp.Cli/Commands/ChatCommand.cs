using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Models.Generation;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro chat --model DIR</c>: an interactive conversation on standard input. Each line is a user message; the
/// conversation so far is rendered with the model's chat template and its generation prompt, the reply is sampled with
/// the model's KV-cached decoder and printed as it is produced (decoded incrementally, so multi-byte characters print
/// whole), up to the model's stop ids, then kept as the assistant's turn. <c>/reset</c> starts over, <c>/exit</c> or
/// end of input stops. Replies go to standard output, one line each; notices to standard error. Without a chat
/// template (e.g. T5) every line is a separate plain prompt and no history is kept.
/// </summary>
public static class ChatCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "HF model directory (with tokenizer.json and a chat template).", Required = true };
        var system = new Option<string?>("--system") { Description = "A system message that starts the conversation (kept by /reset)." };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 means greedy decoding.", DefaultValueFactory = _ => 0.7f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0: off).", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (1: off).", DefaultValueFactory = _ => 1f };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Longest reply in tokens, if no stop token comes first.", DefaultValueFactory = _ => 256 };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed (turn t samples with seed + t).", DefaultValueFactory = _ => 0 };
        var log = new Option<string?>("--log")
        {
            Description = "Write every turn to this JSONL file as a conversational row: prompt (the messages before the reply), completion "
                          + "([{\"role\": \"assistant\", …}]), prompt_text, prompt_ids, completion_ids — add a label column and it is training data.",
        };
        var chatTemplate = ChatTemplateOptions.Template();
        var chatKwargs = ChatTemplateOptions.Kwargs();
        var cmd = new Command("chat", "Chat with a model on standard input: /reset starts over, /exit (or end of input) stops.");
        foreach (var o in new Option[] { model, system, temperature, topK, topP, maxNew, seed, log, chatTemplate, chatKwargs }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            float temp = parse.GetValue(temperature);
            if (temp < 0) throw new UserErrorException("--temperature must be ≥ 0");
            var options = new GenerationOptions
            {
                Greedy = temp == 0, Temperature = temp == 0 ? 1f : temp, TopK = parse.GetValue(topK), TopP = parse.GetValue(topP),
                MaxNewTokens = parse.GetValue(maxNew), Seed = parse.GetValue(seed),
            };
            try { options.Validate(); } catch (ArgumentException e) { throw new UserErrorException(e.Message); }
            using var policy = ModelDirectory.LoadPolicy(dir);
            var tokenizer = ModelDirectory.LoadTokenizer(dir) ?? throw new UserErrorException($"{dir}: dro chat needs the model's tokenizer.json");
            var template = ChatTemplateOptions.Load(dir, parse.GetValue(chatTemplate));
            var encoder = new TokenizerTextEncoder(tokenizer, policy.Tokens, template, ChatTemplateOptions.ParseKwargs(parse.GetValue(chatKwargs)));
            if (template is not null && encoder.ConversationsUnsupportedReason is string why) throw new UserErrorException($"{dir}: {why}");
            string? systemMessage = parse.GetValue(system);
            if (template is null && systemMessage is not null)
                throw new UserErrorException($"{dir}: --system needs a chat template (the model has none; give --chat-template FILE)");
            if (template is null)
                Console.Error.WriteLine($"{dir} has no chat template: each line is a separate plain prompt and the conversation is not kept (give --chat-template FILE for a chat)");

            string? logPath = parse.GetValue(log);
            using var logWriter = logPath is null ? null : new StreamWriter(logPath);
            var session = new Session(policy, tokenizer, encoder, template is not null, systemMessage, options, logWriter);
            bool interactive = !Console.IsInputRedirected;
            while (true)
            {
                if (interactive) Console.Error.Write("> ");
                string? line = Console.In.ReadLine();
                if (line is null) break;
                line = line.TrimEnd('\r');
                if (line.Trim().Length == 0) continue;
                if (line.Trim() is "/exit" or "/quit") break;
                if (line.Trim() == "/reset")
                {
                    session.Reset();
                    Console.Error.WriteLine("(the conversation starts over)");
                    continue;
                }
                if (line.StartsWith('/') && !line.StartsWith("//", StringComparison.Ordinal))
                {
                    Console.Error.WriteLine($"unknown command {line.Split(' ')[0]}: /reset starts over, /exit stops (start a message with // to send a leading /)");
                    continue;
                }
                session.Turn(line.StartsWith("//", StringComparison.Ordinal) ? line[1..] : line);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The conversation so far and one turn of it.</summary>
    private sealed class Session(
        Models.IPolicyModel policy, Tokenizer tokenizer, TokenizerTextEncoder encoder, bool chat, string? system, GenerationOptions options, StreamWriter? log)
    {
        private readonly List<Dictionary<string, string>> _messages = Start(system);
        private readonly Generator _generator = new(policy);
        private int _turn;

        private static List<Dictionary<string, string>> Start(string? system) =>
            system is null ? [] : [new() { ["role"] = "system", ["content"] = system }];

        public void Reset()
        {
            _messages.Clear();
            _messages.AddRange(Start(system));
        }

        public void Turn(string user)
        {
            int[] promptIds;
            string promptText;
            JsonElement? promptMessages = null;
            Dictionary<string, string>? userMessage = null;
            if (chat)
            {
                var messages = _messages.Append(new Dictionary<string, string> { ["role"] = "user", ["content"] = user }).ToList();
                promptMessages = JsonSerializer.SerializeToElement(messages);
                try
                {
                    var rendered = encoder.EncodeConversation(new Conversation(promptMessages.Value, []));
                    (promptIds, promptText) = (rendered.PromptIds, rendered.PromptText);
                }
                catch (Exception e) when (e is ChatTemplateException or FormatException)
                {
                    Console.Error.WriteLine($"dro: the chat template refuses this conversation: {e.Message}; the message was not sent");
                    return;
                }
                userMessage = messages[^1];
            }
            else
            {
                promptText = user;
                promptIds = encoder.EncodePrompt(user);
            }
            int maxNew = options.MaxNewTokens;
            if (policy.Config.MaxSequenceLength is int context)
            {
                if (promptIds.Length >= context)
                {
                    Console.Error.WriteLine($"dro: the conversation ({promptIds.Length} tokens) fills the model's context of {context} tokens; the message was not sent (/reset starts over)");
                    return;
                }
                maxNew = Math.Min(maxNew, context - promptIds.Length);
            }
            if (userMessage is not null) _messages.Add(userMessage);

            var streamer = new IncrementalTextDecoder(tokenizer, skipSpecialTokens: true);
            var output = Console.Out;
            var reply = _generator.Generate([promptIds], options with { Seed = options.Seed + (ulong)_turn++, MaxNewTokens = maxNew }, onToken: (_, token) =>
            {
                string piece = streamer.Add(token);
                if (piece.Length > 0)
                {
                    output.Write(piece);
                    output.Flush();
                }
            })[0];
            output.WriteLine(streamer.Flush());
            output.Flush();
            bool stopped = reply.Length > 0 && policy.Tokens.IsStop(reply[^1]);
            if (!stopped)
                Console.Error.WriteLine(maxNew < options.MaxNewTokens
                    ? $"(the reply was cut at the end of the model's context, {maxNew} new tokens)"
                    : $"(the reply was cut at --max-new-tokens {options.MaxNewTokens})");
            string content = tokenizer.Decode(stopped ? reply[..^1] : reply, skipSpecialTokens: true);
            var assistant = new Dictionary<string, string> { ["role"] = "assistant", ["content"] = content };
            if (chat) _messages.Add(assistant);

            if (log is null) return;
            var row = new Dictionary<string, object>
            {
                ["prompt"] = promptMessages is { } pm ? pm : user,
                ["completion"] = chat ? new[] { assistant } : content,
                ["prompt_text"] = promptText,
                ["prompt_ids"] = promptIds,
                ["completion_ids"] = reply,
            };
            log.WriteLine(JsonSerializer.Serialize(row, Json));
            log.Flush();
        }
    }
}
