namespace DroSharp.Models;

/// <summary>
/// A model family's <c>config.json</c>, parsed and validated: what the rest of DroSharp may ask of any
/// config. Each family has its own concrete type with every key it reads (HF names in its JSON).
/// </summary>
public interface IModelConfig
{
    /// <summary><c>model_type</c> (e.g. <c>t5</c>, <c>llama</c>, <c>qwen3</c>).</summary>
    string ModelType { get; }

    int VocabSize { get; }

    /// <summary>Width of the hidden states a value head reads (T5's <c>d_model</c>, a decoder's <c>hidden_size</c>).</summary>
    int HiddenSize { get; }

    /// <summary>
    /// The longest token sequence the model was built for (a decoder's prompt + completion,
    /// <c>max_position_embeddings</c>), or null when positions are relative and unbounded (T5).
    /// </summary>
    int? MaxSequenceLength { get; }

    /// <summary>Parameters of the policy this config describes (what <c>dro init</c> would allocate).</summary>
    long ParameterCount();

    /// <summary>Elements of the policy's largest weight tensor (DroSharp's tensors hold fewer than 2³¹).</summary>
    long LargestTensorElements { get; }

    /// <summary>
    /// Takes a tokenizer's vocabulary size and special ids (for a freshly initialised model that will
    /// ship with that tokenizer).
    /// </summary>
    void UseTokenizer(TokenizerIds ids);

    /// <summary>The config as Hugging Face writes it (unknown keys that do not change the numerics kept).</summary>
    string ToJson();

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically.</summary>
    void Save(string path);
}
