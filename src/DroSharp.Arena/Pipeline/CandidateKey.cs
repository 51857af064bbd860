namespace DroSharp.Arena.Pipeline;

/// <summary>One point of an algorithm's selection grid: a learning rate and a checkpoint step.</summary>
public readonly record struct CandidateKey(double LearningRate, int Step) : IComparable<CandidateKey>
{
    public int CompareTo(CandidateKey other)
    {
        int c = LearningRate.CompareTo(other.LearningRate);
        return c != 0 ? c : Step.CompareTo(other.Step);
    }
}
