using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Decoder;

/// <summary>
/// Cached decoding for <see cref="DecoderForCausalLM"/> with prompts of different lengths: the prompts
/// run once, right-padded (the prefill), and each layer caches the keys and values of each row's real
/// prompt tokens; every step then feeds one token per row at that row's own next position, written at
/// the row's own end of the cache and attending to that row's cache only. Results per row do not
/// depend on the other rows.
/// </summary>
internal sealed class DecoderIncrementalDecoder : IIncrementalDecoder
{
    private readonly DecoderForCausalLM _model;
    private readonly IReadOnlyList<int[]> _prompts;
    private readonly KeyValueCache[] _caches;
    private readonly Tape _step = new(recording: false);
    private bool _started;

    public DecoderIncrementalDecoder(DecoderForCausalLM model, IReadOnlyList<int[]> prompts, int maxNewTokens)
    {
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), $"{maxNewTokens} new tokens");
        if (prompts.Count == 0 || prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token");
        _model = model;
        _prompts = prompts;
        BatchSize = prompts.Count;
        int capacity = prompts.Max(p => p.Length) + maxNewTokens;
        _caches = new KeyValueCache[model.Config.NumHiddenLayers];
        for (int i = 0; i < _caches.Length; i++) _caches[i] = new KeyValueCache(BatchSize, capacity, model.Config.KeyValueWidth);
    }

    public int BatchSize { get; }

    public Tensor Start()
    {
        if (_started) throw new InvalidOperationException("Start was already called");
        _started = true;
        _step.Reset();
        using var _ = _step.Activate();
        using var batch = new CausalBatch(_prompts, _prompts.Select(_ => Array.Empty<int>()).ToList(), _model.Tokens.PadId);
        var lengths = batch.PromptLengths;
        var hidden = _model.Model.Forward(batch.InputIds, batch.Positions, BatchSize, batch.KeyMask, lengths, _caches, lengths);
        var flat = Ops.Reshape(hidden, new Shape(BatchSize * batch.Length, _model.Config.HiddenSize));
        var last = Enumerable.Range(0, BatchSize).Select(i => i * batch.Length + lengths[i] - 1).ToArray();
        return _model.Logits(Ops.GatherRows(flat, last));
    }

    public Tensor Step(int[] tokens)
    {
        if (!_started) throw new InvalidOperationException("call Start before Step");
        if (tokens.Length != BatchSize) throw new ArgumentException($"{tokens.Length} tokens for a batch of {BatchSize}");
        _step.Reset();
        using var _ = _step.Activate();
        // Each row's new token sits at the row's current length.
        var positions = (int[])_caches[0].Lengths.Clone();
        var lengths = positions.Select(p => p + 1).ToArray();
        var hidden = _model.Model.Forward((int[])tokens.Clone(), positions, BatchSize, null, lengths, _caches);
        return _model.Logits(Ops.Reshape(hidden, new Shape(BatchSize, _model.Config.HiddenSize)));
    }

    public void Dispose()
    {
        foreach (var c in _caches) c.Dispose();
        _step.Dispose();
    }
}
