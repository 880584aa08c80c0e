using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// A place that runs jobs: a local worker process now, a remote node later. They differ in how they are reached, not
/// in what the scheduler asks of them: capacity, send a job, report results, report failure.
/// </summary>
/// <remarks>
/// The mutable state here (<see cref="InFlight"/>, <see cref="Accepting"/>, <see cref="DefinedFunctions"/>) belongs to the
/// scheduler and is only touched under its lock.
/// </remarks>
internal abstract class JobExecutor
{
    /// <summary>Short jobs sent ahead per slot: hides the round trip so tiny jobs are not one job per trip.</summary>
    internal const int PrefetchPerSlot = 32;

    /// <summary>"local" for local workers, "host:port" for nodes: the row of the statistics table.</summary>
    public abstract string Node { get; }

    /// <summary>0 for local workers, 1 for remote nodes: local workers get jobs first; nodes take the overflow.</summary>
    public virtual int Priority => 0;

    /// <summary>How many jobs it runs at the same time.</summary>
    public abstract int Capacity { get; }

    /// <summary>Jobs sent and not yet answered, by job id.</summary>
    internal Dictionary<long, WorkItem> InFlight { get; } = [];

    /// <summary>A racy read of the in-flight count, good enough for choosing which worker to retire.</summary>
    internal int InFlightCountUnsafe => InFlight.Count;

    /// <summary>Functions already defined on this executor's channel.</summary>
    internal HashSet<int> DefinedFunctions { get; } = [];

    /// <summary>False once it is retiring or gone: it gets no new jobs.</summary>
    internal bool Accepting { get; set; } = true;

    /// <summary>In-flight jobs whose function is not known to be short; while there are any, nothing is sent ahead.</summary>
    internal int SlowInFlight { get; set; }

    /// <summary>Whether <paramref name="item"/> may be sent now: to a free slot, or ahead of running jobs that are all short.</summary>
    internal virtual bool CanTake(WorkItem item) =>
        InFlight.Count < Capacity
        || (item.Function.IsShort && SlowInFlight == 0 && InFlight.Count < Capacity * PrefetchPerSlot);

    /// <summary>Queues a frame on the executor's channel. Never blocks; called under the scheduler's lock.</summary>
    internal abstract void Send(IOutgoingFrame frame);

    /// <summary>Called under the scheduler's lock after each of its jobs completes.</summary>
    internal virtual void OnJobCompleted()
    {
    }

    /// <summary>Called under the scheduler's lock when it no longer accepts jobs and has none in flight.</summary>
    internal abstract void OnDrained();
}
