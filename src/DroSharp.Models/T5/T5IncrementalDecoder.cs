using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.T5;

/// <summary>
/// Cached decoding for <see cref="T5ForConditionalGeneration"/>: the encoder runs once; each decoder
/// block's cross-attention keys/values are computed once from its output, and self-attention keys and
/// values are cached step by step (<see cref="T5LayerCache"/>), so step t costs O(t) instead of O(t²).
/// Every row starts from the decoder start token.
/// </summary>
internal sealed class T5IncrementalDecoder : IIncrementalDecoder
{
    private readonly T5ForConditionalGeneration _model;
    private readonly Seq2SeqBatch _prompts;
    private readonly Tape _persistent = new(recording: false);
    private readonly Tape _step = new(recording: false);
    private readonly Tensor _encoderHidden;
    private readonly T5LayerCache[] _caches;
    private int _position;

    public T5IncrementalDecoder(T5ForConditionalGeneration model, IReadOnlyList<int[]> prompts, int maxNewTokens)
    {
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), $"{maxNewTokens} new tokens");
        _model = model;
        BatchSize = prompts.Count;
        _prompts = Seq2SeqBatch.Create(prompts, prompts.Select(_ => new[] { model.PadId }).ToList(), model.PadId, model.DecoderStartId);
        using (_persistent.Activate()) _encoderHidden = model.Encode(_prompts.PromptIds, _prompts.PromptMask);
        _caches = new T5LayerCache[model.Decoder.Blocks.Count];
        for (int l = 0; l < _caches.Length; l++)
            _caches[l] = new T5LayerCache(BatchSize, maxNewTokens, _prompts.PromptLength, model.Config.InnerDim);
    }

    public int BatchSize { get; }

    public Tensor Start() => Feed(Enumerable.Repeat(_model.DecoderStartId, BatchSize).ToArray());

    public Tensor Step(int[] tokens)
    {
        if (_position == 0) throw new InvalidOperationException("call Start before Step");
        return Feed(tokens);
    }

    private Tensor Feed(int[] tokens)
    {
        if (tokens.Length != BatchSize) throw new ArgumentException($"{tokens.Length} tokens for a batch of {BatchSize}");
        _step.Reset();
        using (_step.Activate())
        {
            var emb = Ops.Reshape(Ops.Embedding(_model.Shared, (int[])tokens.Clone()), new Shape(BatchSize, 1, _model.Config.DModel));
            var hidden = _model.Decoder.Forward(emb, null, _encoderHidden, _prompts.PromptMask, _caches, _position);
            _position++;
            return _model.Logits(hidden);
        }
    }

    public void Dispose()
    {
        foreach (var c in _caches) c.Dispose();
        _step.Dispose();
        _persistent.Dispose();
        _prompts.Dispose();
    }
}
