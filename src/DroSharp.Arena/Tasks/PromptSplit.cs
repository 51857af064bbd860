namespace DroSharp.Arena.Tasks;

/// <summary>The three disjoint parts of a task's prompt space (<see cref="ArenaTask.SplitOf"/>).</summary>
public enum PromptSplit
{
    /// <summary>Prompts for SFT demonstrations and feedback data.</summary>
    Train,

    /// <summary>Held-out prompts for choosing settings (τ, β, learning rate, step); never reported as results.</summary>
    Validation,

    /// <summary>Held-out prompts for the reported numbers; never used to choose anything.</summary>
    Test,
}
