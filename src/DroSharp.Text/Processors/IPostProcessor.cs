using System.Text.Json;

namespace DroSharp.Text.Processors;

/// <summary>Adds special tokens around an encoded sequence (HF <c>processors::*</c>).</summary>
internal interface IPostProcessor
{
    /// <summary>Wraps one sequence's ids/tokens; <paramref name="special"/> flags the added ones.</summary>
    void ProcessSingle(List<int> ids, List<string> tokens, List<bool> special);

    void Write(Utf8JsonWriter writer);
}
