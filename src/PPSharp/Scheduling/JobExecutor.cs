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
    /// <summary>Jobs sent ahead per slot when jobs are short: hides the round trip so throughput is not one job per trip.</summary>
    private const int PrefetchPerSlot = 32;

    /// <summary>Jobs shorter than this (on average) are "short": below it, a round trip would dominate.</summary>
    private static readonly double ShortJobTicks = TimeSpan.FromMilliseconds(1).Ticks;

    private double _averageTicks = double.NaN;

    /// <summary>"local" for local workers, "host:port" for nodes: the row of the statistics table.</summary>
    public abstract string Node { get; }

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

    /// <summary>
    /// How many jobs may be in flight: one per slot, so a long job never holds short ones back while another worker
    /// idles (dynamic load balancing); more when its jobs have proved short, so tiny jobs are pipelined.
    /// </summary>
    internal virtual int Window =>
        Capacity * (_averageTicks < ShortJobTicks ? PrefetchPerSlot : 1);

    internal void Observe(TimeSpan elapsed) =>
        _averageTicks = double.IsNaN(_averageTicks) ? elapsed.Ticks : (0.8 * _averageTicks) + (0.2 * elapsed.Ticks);

    /// <summary>Queues a frame on the executor's channel. Never blocks; called under the scheduler's lock.</summary>
    internal abstract void Send(IOutgoingFrame frame);

    /// <summary>Called under the scheduler's lock after each of its jobs completes.</summary>
    internal virtual void OnJobCompleted()
    {
    }

    /// <summary>Called under the scheduler's lock when it no longer accepts jobs and has none in flight.</summary>
    internal abstract void OnDrained();
}
