namespace DroSharp.Models.Gguf;

/// <summary>What <see cref="GgufExporter"/> wrote.</summary>
public sealed record GgufExportResult(
    string OutputPath,
    string Architecture,
    GgufFileType FileType,
    int TensorCount,
    long FileBytes,
    bool TiedEmbeddings,
    string TokenizerModel,
    string? TokenizerPre,
    bool HasChatTemplate);
