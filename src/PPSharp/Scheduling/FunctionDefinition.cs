using System.Buffers;
using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// A function's description as it travels: an id, and the encoded description a worker needs to load it. Sent once per
/// channel, before the first job that uses it; later jobs name only the id (ppft's "transparent caching").
/// </summary>
internal sealed class FunctionDefinition(int id, byte[] payload) : IOutgoingFrame
{
    public int Id { get; } = id;

    /// <summary>The whole DefineFunction payload, id included (see <c>FunctionDescriptor</c> for its layout).</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    /// <summary>Jobs shorter than this on average are "short": a round trip would cost as much as the job.</summary>
    private static readonly double ShortJobTicks = TimeSpan.FromMilliseconds(1).Ticks;

    private double _averageTicks = double.NaN;

    /// <summary>
    /// True once this function's jobs have proved short. Only such jobs are sent ahead to a busy worker; a function
    /// never seen, or seen to be slow, waits for a free one, so a long job never holds others back.
    /// Read and written under the scheduler's lock.
    /// </summary>
    internal bool IsShort => _averageTicks < ShortJobTicks;

    internal void Observe(TimeSpan elapsed) =>
        _averageTicks = double.IsNaN(_averageTicks) ? elapsed.Ticks : (0.8 * _averageTicks) + (0.2 * elapsed.Ticks);

    public MessageType Type => MessageType.DefineFunction;

    public void WritePayload(IBufferWriter<byte> writer) => writer.Write(Payload.Span);
}
