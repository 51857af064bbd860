namespace DroSharp.Models.Lora;

/// <summary>A LoRA adapter's hyper-parameters (PEFT's <c>LoraConfig</c> names in the comments).</summary>
public sealed record LoraOptions
{
    /// <summary>r.</summary>
    public required int Rank { get; init; }

    /// <summary>lora_alpha; scale = α/r (α/√r with <see cref="UseRsLora"/>).</summary>
    public required double Alpha { get; init; }

    /// <summary>lora_dropout, on the adapter's input while training.</summary>
    public double Dropout { get; init; }

    /// <summary>target_modules (<see cref="LoraTargets"/>): names matched as suffixes, or <c>all-linear</c>.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [LoraTargets.AllLinear];

    /// <summary>use_rslora.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (Rank < 1) throw new ArgumentException($"LoRA rank {Rank} must be at least 1");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentException($"LoRA alpha {Alpha} must be a positive number");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"LoRA dropout {Dropout} must be in [0, 1)");
        if (Targets.Count == 0) throw new ArgumentException("no LoRA target modules given (use all-linear or names such as q_proj,v_proj)");
    }
}
