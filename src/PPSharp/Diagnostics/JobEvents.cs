using PPSharp.Scheduling;

namespace PPSharp.Diagnostics;

/// <summary>What a job observer (the dashboard) is told; see <see cref="JobEvents"/>.</summary>
internal interface IJobObserver
{
    /// <summary>A job entered <paramref name="scheduler"/>'s queue. Called under the scheduler's lock: record and return.</summary>
    void OnEnqueued(Scheduler scheduler, WorkItem item);

    /// <summary>A job was sent to <paramref name="executor"/>. Called under the scheduler's lock: record and return.</summary>
    void OnDispatched(Scheduler scheduler, WorkItem item, JobExecutor executor);

    /// <summary>A job's outcome is being delivered (exactly once per job), outside the scheduler's lock.</summary>
    void OnCompleted(WorkItem item, in WorkOutcome outcome);

    /// <summary>A job was cancelled (where job control decides it).</summary>
    void OnCancelled(WorkItem item);
}

/// <summary>
/// The internal hook by which the dashboard follows jobs through every scheduler of the process: enqueue, dispatch,
/// outcome. With no observer each event costs one read of an empty array.
/// </summary>
internal static class JobEvents
{
    private static readonly Lock Gate = new();
    private static IJobObserver[] _observers = [];

    internal static IJobObserver[] Observers => Volatile.Read(ref _observers);

    /// <summary>Adds an observer; disposing the result removes it.</summary>
    public static IDisposable Subscribe(IJobObserver observer)
    {
        lock (Gate)
        {
            Volatile.Write(ref _observers, [.. _observers, observer]);
        }

        return new Subscription(observer);
    }

    private sealed class Subscription(IJobObserver observer) : IDisposable
    {
        public void Dispose()
        {
            lock (Gate)
            {
                Volatile.Write(ref _observers, [.. _observers.Where(o => o != observer)]);
            }
        }
    }
}
