using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// A place that runs jobs: a local worker process or a remote node. They differ in how they are reached, not in what
/// the scheduler asks of them: capacity, send a job, take one back, cancel one, report results, report failure.
/// </summary>
/// <remarks>
/// The mutable state here (<see cref="InFlight"/>, <see cref="Accepting"/>, <see cref="DefinedFunctions"/>) belongs to the
/// scheduler and is only touched under its lock.
/// </remarks>
internal abstract class JobExecutor
{
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

    /// <summary>Jobs held here whose RevokeJob is on its way.</summary>
    internal int Revoking { get; set; }

    /// <summary>Functions already defined on this executor's channel.</summary>
    internal HashSet<int> DefinedFunctions { get; } = [];

    /// <summary>Initializers already sent on this executor's channel, by their (negative) ids.</summary>
    internal HashSet<long> Initialized { get; } = [];

    /// <summary>
    /// Whether it is a node, which takes a client's worker initializer once and runs it on each of its own workers,
    /// rather than a worker that runs it.
    /// </summary>
    public virtual bool ForwardsInitializer => false;

    /// <summary>False once it is retiring or gone: it gets no new jobs.</summary>
    internal bool Accepting { get; set; } = true;

    /// <summary>
    /// How many jobs it may hold when <paramref name="item"/> is next: its slots, plus enough queued ahead on each slot
    /// that it goes from one job to the next without waiting for this process (<see cref="FunctionDefinition.AheadPerSlotFor"/>).
    /// Jobs held ahead that have not started are taken back when another executor frees up first, so holding them costs
    /// no balance.
    /// </summary>
    internal virtual int MaxHeld(WorkItem item) => Capacity * (1 + item.Function.AheadPerSlotFor(item.Body.Length));

    /// <summary>Queues a frame on the executor's channel. Never blocks; called under the scheduler's lock.</summary>
    internal abstract void Send(IOutgoingFrame frame);

    /// <summary>Called under the scheduler's lock after each of its jobs completes.</summary>
    internal virtual void OnJobCompleted()
    {
    }

    /// <summary>Called under the scheduler's lock when it no longer accepts jobs and has none in flight.</summary>
    internal abstract void OnDrained();
}
