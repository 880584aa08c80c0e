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

    /// <summary>
    /// Jobs shorter than this on average are "short": their starts are not acknowledged and their answers are gathered
    /// (<c>WorkerChannelWriter</c>), since waking the client for each one would cost a good share of the job.
    /// </summary>
    private static readonly double ShortJobTicks = TimeSpan.FromMilliseconds(10).Ticks;

    /// <summary>
    /// How much work each slot keeps queued ahead of the running job: enough to cover a dispatch round trip and the
    /// time a worker gathers answers before writing them (<c>WorkerChannelWriter.MaxPendingTicks</c>), so it never waits.
    /// </summary>
    private static readonly double AheadTicks = TimeSpan.FromMilliseconds(16).Ticks;

    /// <summary>
    /// The most jobs queued ahead per slot, for the tiniest functions: at least twice the answers a worker gathers
    /// before writing (<c>WorkerChannelWriter.MaxPendingFrames</c>), so that it still has work in hand while the client
    /// reads a batch of answers and sends the next jobs. 32 (with batches of 16) woke the client about once every two
    /// jobs for 0.1 ms jobs on 2 workers and cost 15-17 µs of its CPU per job; 128 (with batches of 64) halves that.
    /// </summary>
    internal const int MaxAheadPerSlot = 128;

    /// <summary>
    /// The most bytes of job bodies a slot holds ahead of the running job: a short function with large arguments
    /// keeps fewer jobs ahead (at least one), so the jobs held on a worker, in its socket and in its process, stay bounded.
    /// </summary>
    internal const int MaxAheadBytesPerSlot = 8 * 1024 * 1024;

    private double _averageTicks = double.NaN;

    /// <summary>True once this function's jobs have proved short (read and written under the scheduler's lock).</summary>
    internal bool IsShort => _averageTicks < ShortJobTicks;

    /// <summary>
    /// Jobs each slot holds beyond the running one: one for a function never seen or of long jobs, more for short ones,
    /// so that a worker always has its next job in hand when it finishes one.
    /// </summary>
    internal int AheadPerSlot => double.IsNaN(_averageTicks) ? 1 : (int)Math.Clamp(Math.Ceiling(AheadTicks / Math.Max(1, _averageTicks)), 1, MaxAheadPerSlot);

    /// <summary>
    /// Jobs each slot holds beyond the running one when a job whose body is <paramref name="bodyBytes"/> long is next:
    /// <see cref="AheadPerSlot"/>, fewer for large bodies (<see cref="MaxAheadBytesPerSlot"/>), never less than one.
    /// </summary>
    internal int AheadPerSlotFor(int bodyBytes) => Math.Max(1, Math.Min(AheadPerSlot, MaxAheadBytesPerSlot / Math.Max(1, bodyBytes)));

    internal void Observe(TimeSpan elapsed) =>
        _averageTicks = double.IsNaN(_averageTicks) ? elapsed.Ticks : (0.8 * _averageTicks) + (0.2 * elapsed.Ticks);

    public MessageType Type => MessageType.DefineFunction;

    public void WritePayload(IBufferWriter<byte> writer) => PooledBufferWriter.Write(writer, Payload.Span);
}
