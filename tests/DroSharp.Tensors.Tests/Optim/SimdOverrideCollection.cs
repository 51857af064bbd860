namespace DroSharp.Tensors.Tests.Optim;

/// <summary>
/// Tests that lower <c>KernelDispatch.Level</c> run alone: the override is process-wide, and two
/// overlapping overrides could restore each other's level in the wrong order.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimdOverrideCollection
{
    public const string Name = "Optim: SIMD level overrides";
}
