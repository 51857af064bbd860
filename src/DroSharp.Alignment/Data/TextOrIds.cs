namespace DroSharp.Alignment.Data;

/// <summary>
/// A prompt or response as the file gave it: text (<c>prompt</c>), token ids used verbatim (<c>prompt_ids</c>),
/// or both, in which case the ids are what the model sees and the text is kept for display and grouping.
/// </summary>
public sealed class TextOrIds : IEquatable<TextOrIds>
{
    private TextOrIds(string? text, int[]? ids)
    {
        if (text is null && ids is null) throw new ArgumentException("need text or ids");
        Text = text;
        Ids = ids;
    }

    public string? Text { get; }

    /// <summary>Token ids from the file (every id ≥ 0); not to be modified.</summary>
    public int[]? Ids { get; }

    public bool HasIds => Ids is not null;

    public static TextOrIds FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null);

    public static TextOrIds FromIds(int[] ids) => new(null, ids ?? throw new ArgumentNullException(nameof(ids)));

    public static TextOrIds FromBoth(string text, int[] ids) =>
        new(text ?? throw new ArgumentNullException(nameof(text)), ids ?? throw new ArgumentNullException(nameof(ids)));

    /// <summary>The ids from the file, or the encoded text (as a completion when <paramref name="completion"/>, else as a prompt).</summary>
    public int[] ToIds(ITextEncoder? encoder, bool completion)
    {
        if (Ids is not null) return Ids;
        if (encoder is null) throw new InvalidOperationException("the data holds text but no tokenizer was given to encode it");
        return completion ? encoder.EncodeCompletion(Text!) : encoder.EncodePrompt(Text!);
    }

    /// <summary>Identity for grouping by prompt: the ids when present (they are what the model sees), else the text.</summary>
    internal string Key => Ids is not null ? "ids:" + string.Join(",", Ids) : "text:" + Text;

    public bool Equals(TextOrIds? other) => other is not null && Key == other.Key;

    public override bool Equals(object? obj) => Equals(obj as TextOrIds);

    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text ?? "[" + string.Join(", ", Ids!) + "]";
}
