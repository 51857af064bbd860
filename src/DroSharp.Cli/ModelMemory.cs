using DroSharp.Models;

namespace DroSharp.Cli;

/// <summary>
/// Whether a configuration fits before anything is allocated: every tensor must have fewer than 2³¹ elements, and the
/// float32 weights (4 bytes a parameter, plus a quarter for the writer's buffers and the runtime) must fit in the
/// memory this process may use (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, which honours container limits).
/// </summary>
internal static class ModelMemory
{
    public static (long Parameters, long LargestTensor) Size(IModelConfig config) => (config.ParameterCount(), config.LargestTensorElements);

    /// <summary>Throws <see cref="UserErrorException"/> naming <paramref name="source"/> when the model cannot be built here.</summary>
    public static void RequireFits(IModelConfig config, string source, long? availableBytes = null)
    {
        var (parameters, largest) = Size(config);
        if (largest >= int.MaxValue)
            throw new UserErrorException($"{source}: one weight matrix would have {largest:N0} elements; DroSharp's tensors hold fewer than 2³¹ (reduce vocab_size or the hidden sizes)");
        long available = availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long needed = parameters * 4 + parameters; // float32 weights + a quarter for buffers and the runtime
        if (needed > available)
            throw new UserErrorException($"{source}: the model would have {parameters:N0} parameters, about {Gib(needed)} GiB as float32, " +
                                         $"but only {Gib(available)} GiB of memory is available; reduce its sizes");
    }

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
