namespace DroSharp.Text;

/// <summary>
/// A text the tokenizer cannot represent: a piece outside the vocabulary and no usable unknown token (the model has
/// no <c>unk_id</c>/<c>unk_token</c>, or it is missing from the vocabulary). Hugging Face's tokenizers fail on the
/// same texts. A <see cref="FormatException"/>, since the tokenizer file is what is wrong for this text.
/// </summary>
public sealed class UnencodableTextException(string message) : FormatException(message);
