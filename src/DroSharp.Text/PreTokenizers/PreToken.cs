namespace DroSharp.Text.PreTokenizers;

/// <summary>
/// A piece of normalized text on its way to the model. <see cref="AtStart"/> says the piece begins at
/// offset 0 of the original input (HF's <c>offsets_original().0 == 0</c>), which Metaspace's
/// <c>prepend_scheme: "first"</c> needs.
/// </summary>
internal readonly record struct PreToken(string Text, bool AtStart);
