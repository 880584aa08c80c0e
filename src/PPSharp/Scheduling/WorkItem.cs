using System.Buffers;
using System.Diagnostics;
using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// One job as the scheduler sees it: which function, and the already-serialized captured values and arguments.
/// The scheduler never looks inside; the same item can go to a local worker or a remote node unchanged.
/// </summary>
/// <remarks>The scheduling state below belongs to the <see cref="Scheduler"/> and is only touched under its lock.</remarks>
internal abstract class WorkItem(long id, FunctionDefinition function, ReadOnlyMemory<byte> body, WorkSettings settings) : IOutgoingFrame
{
    public long Id { get; } = id;

    public FunctionDefinition Function { get; } = function;

    /// <summary>
    /// MessagePack values: the function's target (closure or object), then each argument (or each item's). A large one
    /// is a <see cref="HeldArray"/>: the item holds it until its outcome is delivered (<see cref="Finish"/>), and each
    /// RunJob frame of it queued on a connection holds it until written, so its array is reused only once the job
    /// has ended and no connection still has it to write.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>Whether the item lets go of its body when finished; not one sent to every new worker for good (an initializer).</summary>
    internal virtual bool ReleasesBody => true;

    public WorkSettings Settings { get; } = settings;

    /// <summary>Whose job it is, for fair turns in the queue (a node's client); null for the one owner of a client's queue.</summary>
    public virtual object? Owner => null;

    /// <summary>
    /// What must run on a worker before this job's first run there (a node's client's initializer); null for nothing.
    /// </summary>
    public virtual InitializerItem? Initializer => null;

    /// <summary>Flags of its RunJob besides the start acknowledgement.</summary>
    internal virtual Messages.RunFlags Flags => Messages.RunFlags.None;

    /// <summary>Where it is now: queued, sent to an executor, running there, or finished.</summary>
    internal WorkState State { get; set; } = WorkState.Queued;

    /// <summary>The executor holding it while <see cref="State"/> is Sent or Running.</summary>
    internal JobExecutor? Executor { get; set; }

    /// <summary>Order in which the item was handed to its current executor; the oldest is the one running.</summary>
    internal long SendSequence { get; set; }

    /// <summary>Whether its RunJob asked the worker to acknowledge the start.</summary>
    internal bool AcknowledgeStart { get; set; }

    /// <summary>
    /// Its worker died while it was the oldest job there, unacknowledged (short jobs are not): whether it had started
    /// is unknown, so it runs again, acknowledged from now on.
    /// </summary>
    internal bool MustAcknowledge { get; set; }

    /// <summary>A RevokeJob is on its way to its executor: it may come back to run elsewhere.</summary>
    internal bool Revoking { get; set; }

    /// <summary>Whoever submitted it asked for it back (a node's client took it back): answer "revoked", do not requeue.</summary>
    internal bool ReturnWhenRevoked { get; set; }

    /// <summary>Cancelled while in flight: whatever its executor reports next, the job ends as cancelled.</summary>
    internal bool CancelRequested { get; set; }

    /// <summary>Attempts that failed in a way its settings retry (a crash of its worker, or an exception in <see cref="WorkSettings.RetryOn"/>).</summary>
    internal int FailedAttempts { get; set; }

    /// <summary>Times it was in flight on a node that was lost.</summary>
    internal int NodeLosses { get; set; }

    /// <summary>When its executor said it started (Stopwatch ticks), or 0.</summary>
    internal long StartedAt { get; set; }

    /// <summary>When it was queued (a <see cref="Stopwatch"/> timestamp), only while the queue-wait histogram is listened to; else 0.</summary>
    internal long EnqueuedAt { get; set; }

    /// <summary>
    /// The job's activity on the submitting side, when something listens to the <c>PPSharp</c> source; its id is then
    /// the <see cref="TraceParent"/>.
    /// </summary>
    internal Activity? Activity
    {
        get => _trace as Activity;
        set => _trace = value;
    }

    /// <summary>
    /// W3C trace context sent with the job so the worker's activity is the job activity's child; null for none. The
    /// <see cref="Activity"/>'s id, or on a node the context its client sent.
    /// </summary>
    internal string? TraceParent
    {
        get => _trace is Activity activity ? activity.Id : _trace as string;
        set => _trace = value;
    }

    /// <summary>One field for <see cref="Activity"/> or <see cref="TraceParent"/>: a queued job costs as little as it can.</summary>
    private object? _trace;

    public MessageType Type => MessageType.RunJob;

    /// <summary>Its RunJob frame is about to be queued on a connection: its body is held until the frame is written.</summary>
    public void Queued() => HeldArray.Hold(Body);

    /// <summary>A RunJob frame: the header (<see cref="Messages.RunJob"/>), then the body as it is.</summary>
    public void WritePayload(IBufferWriter<byte> writer)
    {
        try
        {
            new Messages.RunJob(Id, Function.Id, Flags | (AcknowledgeStart ? Messages.RunFlags.AcknowledgeStart : Messages.RunFlags.None), Settings.TimeoutMilliseconds, Settings.ChunkSize, TraceParent).Write(writer);
            PooledBufferWriter.Write(writer, Body.Span);
        }
        finally
        {
            HeldArray.Release(Body); // the hold taken when this frame was queued (Queued): the body is copied out now
        }
    }

    /// <summary>
    /// Delivers the outcome. The scheduler calls it exactly once per item, outside its lock, on the thread that learned
    /// the outcome (a channel's read loop, or the thread that disposed the server), through <see cref="Finish"/>.
    /// </summary>
    public abstract void Complete(in WorkOutcome outcome);

    /// <summary>
    /// Delivers the final outcome (<see cref="Complete"/>), then lets go of the body: the item never runs again, so
    /// its body is reused as soon as no connection has a frame of it left to write.
    /// </summary>
    internal void Finish(in WorkOutcome outcome)
    {
        try
        {
            Complete(outcome);
        }
        finally
        {
            if (ReleasesBody)
            {
                HeldArray.Release(Body);
            }
        }
    }

    /// <summary>Its executor said it started; called outside the scheduler's lock.</summary>
    public virtual void OnStarted()
    {
    }
}

/// <summary>Where a job is in its life.</summary>
internal enum WorkState : byte
{
    Queued,
    Sent,
    Running,

    /// <summary>Out of the queue, waiting for its retry delay to pass.</summary>
    Retrying,
    Done,
}

/// <summary>A job's own settings, fixed at submission.</summary>
/// <param name="Priority">Higher leaves the queue first; first-in first-out among equals.</param>
/// <param name="TimeoutMilliseconds">Time limit from the job's start, 0 for none; enforced where it runs.</param>
/// <param name="Retries">Extra attempts after its worker crashed running it.</param>
/// <param name="ChunkSize">0 for one call; else the number of items in a map chunk.</param>
/// <param name="RetryOn">Full names of exception types whose failure is retried too; null for none.</param>
/// <param name="RetryDelayMilliseconds">Wait before each retry.</param>
/// <remarks>A class, not a struct: most jobs share one instance (<see cref="Default"/>, or their server's), so a queued job
/// holds 8 bytes of settings rather than 40.</remarks>
internal sealed record WorkSettings(int Priority = 0, long TimeoutMilliseconds = 0, int Retries = 0, int ChunkSize = 0, string[]? RetryOn = null, long RetryDelayMilliseconds = 0)
{
    public static readonly WorkSettings Default = new();

    /// <summary>Jobs lost with their node are rescheduled at least this many times (they may never have started there).</summary>
    public const int MinNodeLossRetries = 3;
}
