using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// A worker initializer as a job (<see cref="JobServerOptions.WorkerInitializer"/>). A client sends its own to each
/// new local worker before the worker joins the scheduler, and once to each node it connects to; a node sends a
/// client's to each of its workers before the first job of that client there (<see cref="Scheduler"/>), since the
/// node's workers serve every client. Its id is negative, never a real job's, and its answer only says whether it
/// worked.
/// </summary>
internal sealed class InitializerItem(FunctionDefinition function, ReadOnlyMemory<byte> body) : WorkItem(Interlocked.Decrement(ref s_lastId), function, body, WorkSettings.Default)
{
    private static long s_lastId;

    /// <summary>Whether a job id is an initializer's: below every job id, which start at 1.</summary>
    public static bool IsInitializer(long jobId) => jobId < 0;

    internal override Messages.RunFlags Flags => Messages.RunFlags.Initializer;

    /// <summary>Sent to every new worker for as long as its server lives: it keeps its body for good.</summary>
    internal override bool ReleasesBody => false;

    public override void Complete(in WorkOutcome outcome)
    {
    }
}
