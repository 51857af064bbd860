using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// The RoPE tables of one model: the global one (the config's rope type) and, for Gemma 3, the local
/// one of its sliding layers (default RoPE with rope_local_base_freq). Angles that do not depend on the
/// sequence length are cached in one table grown as positions need. Length-dependent types (dynamic,
/// longrope) use each row's own length, as transformers does for one sequence: the rows' tables are
/// stacked and each token indexes its row's block, so results do not depend on what else is in the batch.
/// Tables referenced by a tape stay alive through it; replaced tables are left to the collector.
/// </summary>
internal sealed class DecoderRotary
{
    private readonly DecoderConfig _config;
    private readonly RopeTable?[] _cached = new RopeTable?[2];

    public DecoderRotary(DecoderConfig config) => _config = config;

    /// <summary>
    /// The table and per-token table rows for tokens at positions <paramref name="positions"/> [B·T]
    /// (row b's tokens are b·T … b·T + T − 1); <paramref name="sequenceLengths"/>[b] is row b's length
    /// for length-dependent RoPE.
    /// </summary>
    public (RopeTable Table, int[] Rows) Prepare(bool local, int[] positions, int batch, int[] sequenceLengths)
    {
        if (local || !_config.RopeDependsOnLength)
        {
            int needed = positions.Length == 0 ? 1 : positions.Max() + 1;
            int slot = local ? 1 : 0;
            if (_cached[slot] is not { } table || table.MaxPositions < needed)
            {
                int capacity = Math.Max(needed, Math.Min(Math.Max(256, 2 * (_cached[slot]?.MaxPositions ?? 0)), Math.Max(needed, _config.MaxPositionEmbeddings)));
                _cached[slot] = table = new RopeTable(_config.Frequencies(local, capacity), capacity);
            }
            return (table, positions);
        }
        // One block per row, sized to the row's largest position, with that row's frequencies.
        int t = positions.Length / batch;
        var blockStart = new int[batch];
        int total = 0;
        var blockLength = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            int max = 0;
            for (int j = 0; j < t; j++) max = Math.Max(max, positions[b * t + j]);
            blockStart[b] = total;
            blockLength[b] = max + 1;
            total += max + 1;
        }
        int half = (int)(_config.HeadDim * _config.PartialRotaryFactor) / 2;
        var cos = new float[total * half];
        var sin = new float[total * half];
        for (int b = 0; b < batch; b++)
        {
            var f = _config.Frequencies(local: false, sequenceLengths[b]);
            using var rowTable = new RopeTable(f, blockLength[b]);
            rowTable.Cos.Span.CopyTo(cos.AsSpan(blockStart[b] * half, blockLength[b] * half));
            rowTable.Sin.Span.CopyTo(sin.AsSpan(blockStart[b] * half, blockLength[b] * half));
        }
        var rows = new int[positions.Length];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < t; j++) rows[b * t + j] = blockStart[b] + positions[b * t + j];
        return (RopeTable.FromCosSin(cos, sin, total, 2 * half), rows);
    }
}
