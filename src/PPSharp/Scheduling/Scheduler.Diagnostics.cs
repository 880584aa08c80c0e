using PPSharp.Diagnostics;
using PPSharp.Protocol;
using PPSharp.Remote;
using PPSharp.Workers;

namespace PPSharp.Scheduling;

/// <summary>A place that runs jobs, as diagnostics see it at one instant.</summary>
/// <param name="Executor">The executor itself, for identity only (never called).</param>
/// <param name="Node">"local", or the node's "host:port".</param>
/// <param name="IsRemote">True for a remote node, false for a local worker process.</param>
/// <param name="ProcessId">A local worker's process id; 0 for a node.</param>
/// <param name="Capacity">How many jobs it runs at the same time.</param>
/// <param name="InFlight">Jobs sent to it and not yet answered (running, or sent ahead).</param>
/// <param name="Running">
/// The jobs it said it started (<see cref="WorkState.Running"/>, as <see cref="Job.State"/> and
/// <see cref="JobServer.GetJobs"/> report them), oldest first. Jobs whose start is not acknowledged (those of functions
/// known to be short) are never among them: they count as sent until they finish.
/// </param>
/// <param name="Load">A node's latest report of its workers' memory and CPU; null for a local worker, or before the first report.</param>
internal sealed record ExecutorSnapshot(object Executor, string Node, bool IsRemote, int ProcessId, int Capacity, int InFlight, IReadOnlyList<WorkItem> Running, Messages.NodeLoad? Load = null)
{
    /// <summary>Workers of this executor that are running a job.</summary>
    public int Busy => Math.Min(InFlight, Capacity);

    /// <summary>Jobs sent to it that it has not said it started (<see cref="WorkState.Sent"/>).</summary>
    public int Sent => InFlight - Running.Count;
}

/// <summary>A scheduler's queue and executors at one instant.</summary>
internal sealed record SchedulerSnapshot(int QueueLength, IReadOnlyList<ExecutorSnapshot> Executors);

internal sealed partial class Scheduler
{
    /// <summary>Reads the queue length and each executor's load under the lock: for gauges and the dashboard, not the hot path.</summary>
    internal SchedulerSnapshot Observe()
    {
        lock (_gate)
        {
            var executors = new List<ExecutorSnapshot>(_executors.Count);
            foreach (JobExecutor executor in _executors)
            {
                WorkItem[] running = [.. executor.InFlight.Values.Where(i => i.State == WorkState.Running).OrderBy(i => i.SendSequence)];
                executors.Add(new ExecutorSnapshot(
                    executor,
                    executor.Node,
                    executor is RemoteNode,
                    (executor as LocalWorker)?.ProcessId ?? 0,
                    executor.Capacity,
                    executor.InFlight.Count,
                    running,
                    (executor as RemoteNode)?.Load));
            }

            return new SchedulerSnapshot(_queue.Count, executors);
        }
    }

    /// <summary>Registers this scheduler with the gauges of the <c>PPSharp</c> meter.</summary>
    private void TrackForMetrics() => LiveSchedulers.Add(this);
}
