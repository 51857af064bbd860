namespace DroSharp.Alignment.Training;

/// <summary>A problem with the user's options, data or run directory: reported as one clear line.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner);
