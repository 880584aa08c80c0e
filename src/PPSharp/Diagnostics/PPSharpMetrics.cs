using System.Diagnostics;
using System.Diagnostics.Metrics;
using PPSharp.Scheduling;

namespace PPSharp.Diagnostics;

/// <summary>
/// The <c>PPSharp</c> meter: what the job server (and a <c>ppserver</c> node, which runs the same scheduler) counts, in
/// OpenTelemetry's naming style (dotted names, units in UCUM, counts in braces). Read it with
/// <c>dotnet-counters monitor -n PROCESS --counters PPSharp</c>, a <see cref="MeterListener"/>, or OpenTelemetry.
/// </summary>
/// <remarks>
/// Recording is a check of <see cref="Instrument.Enabled"/> when nothing listens, so the hot path pays a branch per
/// event. The observable gauges read every live scheduler under its lock, only when a listener collects.
/// </remarks>
internal static class PPSharpMetrics
{
    /// <summary>The meter's name (pinned: tools and dashboards subscribe to it by name).</summary>
    public const string MeterName = "PPSharp";

    /// <summary>The tag naming where a job ran or a connection goes: "local" or "host:port".</summary>
    public const string NodeTag = "ppsharp.node";

    /// <summary>The tag on failures: the exception's type name, as OpenTelemetry's <c>error.type</c>.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>The tag on <c>ppsharp.workers</c>: "busy" or "idle".</summary>
    public const string WorkerStateTag = "ppsharp.worker.state";

    /// <summary>The tag on <c>ppsharp.network.io</c>: "transmit" or "receive", as OpenTelemetry's <c>network.io.direction</c>.</summary>
    public const string DirectionTag = "network.io.direction";

    private static readonly Meter Meter = new(MeterName, typeof(PPSharpMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Submitted = Meter.CreateCounter<long>("ppsharp.jobs.submitted", "{job}", "Jobs submitted (on a node: received from clients).");

    internal static readonly Counter<long> Completed = Meter.CreateCounter<long>("ppsharp.jobs.completed", "{job}", "Jobs whose function returned.");

    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("ppsharp.jobs.failed", "{job}", "Jobs that threw, lost their worker, or were failed by Dispose.");

    internal static readonly Counter<long> Cancelled = Meter.CreateCounter<long>("ppsharp.jobs.cancelled", "{job}", "Jobs cancelled before they finished.");

    internal static readonly Counter<long> Retried = Meter.CreateCounter<long>("ppsharp.jobs.retried", "{job}", "Jobs put back in the queue because the worker or node holding them was lost.");

    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("ppsharp.job.duration", "s", "How long a job's function ran, measured where it ran.");

    internal static readonly Histogram<double> QueueDuration = Meter.CreateHistogram<double>("ppsharp.job.queue.duration", "s", "How long a job waited in the queue before it was sent to a worker or node.");

    internal static readonly Counter<long> NetworkIo = Meter.CreateCounter<long>("ppsharp.network.io", "By", "Bytes sent and received on worker channels and node connections.");

    static PPSharpMetrics()
    {
        Meter.CreateObservableGauge("ppsharp.queue.length", ObserveQueueLength, "{job}", "Jobs waiting for a worker or node.");
        Meter.CreateObservableGauge("ppsharp.jobs.in_flight", ObserveInFlight, "{job}", "Jobs sent to a worker or node and not yet answered.");
        Meter.CreateObservableGauge("ppsharp.workers", ObserveWorkers, "{worker}", "Workers, busy or idle (a node's workers as its client sees them).");
        Meter.CreateObservableGauge("ppsharp.nodes.connected", ObserveNodes, "{node}", "Remote nodes connected and authenticated.");
    }

    /// <summary>A job entered a scheduler's queue for the first time.</summary>
    public static void OnEnqueued(WorkItem item)
    {
        if (Submitted.Enabled)
        {
            Submitted.Add(1);
        }

        if (QueueDuration.Enabled)
        {
            // Only then: reading the clock is not free (about 150 ns on a virtual machine's kvm-clock).
            item.EnqueuedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>A job left the queue for <paramref name="executor"/>.</summary>
    public static void OnDispatched(WorkItem item, JobExecutor executor)
    {
        if (item.EnqueuedAt != 0 && QueueDuration.Enabled)
        {
            // Once per job: a job taken back from a busy worker and sent again has waited once, from its submission.
            QueueDuration.Record(Stopwatch.GetElapsedTime(item.EnqueuedAt).TotalSeconds, new KeyValuePair<string, object?>(NodeTag, executor.Node));
            item.EnqueuedAt = 0;
        }
    }

    /// <summary>Jobs held by a lost executor went back to the queue.</summary>
    public static void OnRequeued(int count, JobExecutor executor)
    {
        if (count > 0 && Retried.Enabled)
        {
            Retried.Add(count, new KeyValuePair<string, object?>(NodeTag, executor.Node));
        }
    }

    /// <summary>A job's outcome is being delivered (exactly once per job).</summary>
    public static void OnCompleted(in WorkOutcome outcome)
    {
        var node = new KeyValuePair<string, object?>(NodeTag, outcome.Node);
        if (outcome.Kind == OutcomeKind.Succeeded)
        {
            if (Completed.Enabled)
            {
                Completed.Add(1, node);
            }
        }
        else if (outcome.LocalError is OperationCanceledException || outcome.Kind == OutcomeKind.Revoked)
        {
            // Cancelled (counted as such, not as a failure), or handed back to a node's client to run elsewhere.
            if (outcome.Kind != OutcomeKind.Revoked)
            {
                OnCancelled(outcome.Node);
            }
        }
        else if (Failed.Enabled)
        {
            Failed.Add(1, node, new KeyValuePair<string, object?>(ErrorTypeTag, ErrorType(outcome)));
        }

        if (outcome.Kind != OutcomeKind.Lost && Duration.Enabled)
        {
            Duration.Record(outcome.Elapsed.TotalSeconds, node);
        }
    }

    /// <summary>A job was cancelled (for the job-control work to call where a cancellation is decided).</summary>
    public static void OnCancelled(string node)
    {
        if (Cancelled.Enabled)
        {
            Cancelled.Add(1, new KeyValuePair<string, object?>(NodeTag, node));
        }
    }

    /// <summary>Bytes went over a channel to or from <paramref name="peer"/>.</summary>
    public static void OnBytes(long bytes, string peer, bool sent)
    {
        if (bytes > 0 && NetworkIo.Enabled)
        {
            NetworkIo.Add(bytes, new KeyValuePair<string, object?>(NodeTag, peer), new KeyValuePair<string, object?>(DirectionTag, sent ? "transmit" : "receive"));
        }
    }

    internal static string ErrorType(in WorkOutcome outcome) =>
        outcome.ErrorType ?? outcome.LocalError?.GetType().FullName ?? "unknown";

    private static IEnumerable<Measurement<int>> ObserveQueueLength()
    {
        int queued = 0;
        foreach (Scheduler scheduler in LiveSchedulers.All())
        {
            queued += scheduler.Observe().QueueLength;
        }

        return [new Measurement<int>(queued)];
    }

    private static IEnumerable<Measurement<int>> ObserveInFlight() =>
        ByNode(e => e.InFlight).Select(r => new Measurement<int>(r.Value, new KeyValuePair<string, object?>(NodeTag, r.Key)));

    private static IEnumerable<Measurement<int>> ObserveWorkers()
    {
        foreach ((string node, int busy) in ByNode(e => e.Busy))
        {
            yield return new Measurement<int>(busy, new(NodeTag, node), new(WorkerStateTag, "busy"));
        }

        foreach ((string node, int idle) in ByNode(e => e.Capacity - e.Busy))
        {
            yield return new Measurement<int>(idle, new(NodeTag, node), new(WorkerStateTag, "idle"));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveNodes()
    {
        int nodes = 0;
        foreach (Scheduler scheduler in LiveSchedulers.All())
        {
            nodes += scheduler.Observe().Executors.Count(e => e.IsRemote);
        }

        return [new Measurement<int>(nodes)];
    }

    private static Dictionary<string, int> ByNode(Func<ExecutorSnapshot, int> value)
    {
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Scheduler scheduler in LiveSchedulers.All())
        {
            foreach (ExecutorSnapshot executor in scheduler.Observe().Executors)
            {
                rows[executor.Node] = rows.GetValueOrDefault(executor.Node) + value(executor);
            }
        }

        return rows;
    }
}
