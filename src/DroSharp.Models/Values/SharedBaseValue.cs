using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Values;

/// <summary>
/// A value model that runs on its policy's own modules (<see cref="IModelFamily.CreateValueModelOnBase"/>)
/// and the policy's <see cref="Linear"/> modules its forward runs through, where an adapter of its own attaches.
/// </summary>
public sealed record SharedBaseValue(IValueModel Model, IReadOnlyList<Linear> Linears);
