using System.Buffers;
using System.Diagnostics;
using MessagePack;
using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// One job as the scheduler sees it: which function, and the already-serialized captured values and arguments.
/// The scheduler never looks inside; the same item can go to a local worker or (later) a remote node unchanged.
/// </summary>
internal abstract class WorkItem(long id, FunctionDefinition function, ReadOnlyMemory<byte> body) : IOutgoingFrame
{
    public long Id { get; } = id;

    public FunctionDefinition Function { get; } = function;

    /// <summary>MessagePack values: the function's target (closure or object), then each argument.</summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>Order in which the item was handed to its current executor; the oldest is the one running.</summary>
    internal long SendSequence { get; set; }

    /// <summary>Whether it counted as slow (see <see cref="JobExecutor.SlowInFlight"/>) when it was sent.</summary>
    internal bool SentAsSlow { get; set; }

    /// <summary>When it was queued (a <see cref="Stopwatch"/> timestamp), only while the queue-wait histogram is listened to; else 0.</summary>
    internal long EnqueuedAt { get; set; }

    /// <summary>The job's activity on the submitting side, when something listens to the <c>PPSharp</c> source.</summary>
    internal Activity? Activity { get; set; }

    /// <summary>W3C trace context sent with the job so the worker's activity is the job activity's child; null for none.</summary>
    internal string? TraceParent { get; set; }

    public MessageType Type => MessageType.RunJob;

    /// <summary>
    /// RunJob payload: job id (uint64), function id (int32), whether to acknowledge the start (bool), trace context
    /// (W3C traceparent string, or nil), then the body.
    /// Jobs of functions not known to be short ask for the acknowledgement, so that if the worker dies the client knows
    /// whether this job was running (it fails) or had not started (it goes back to the queue).
    /// </summary>
    public void WritePayload(IBufferWriter<byte> writer)
    {
        var header = new MessagePackWriter(writer);
        header.Write((ulong)Id);
        header.Write(Function.Id);
        header.Write(SentAsSlow);
        header.Write(TraceParent);
        header.Flush();
        writer.Write(Body.Span);
    }

    /// <summary>
    /// Delivers the outcome. The scheduler calls it exactly once per item, outside its lock, on the thread that learned
    /// the outcome (a channel's read loop, or the thread that disposed the server).
    /// </summary>
    public abstract void Complete(in WorkOutcome outcome);
}
