using System.Collections.Concurrent;
using System.ComponentModel;
using System.Text.Json;
using PPSharp.Diagnostics;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Dashboard;

/// <summary>
/// Follows one job server's jobs through the core's job event hook and samples its workers once a second: the data
/// behind the page. Everything it keeps is bounded (the last tasks, failures and minutes). It never reads options,
/// so the secret cannot reach the page.
/// </summary>
/// <remarks>
/// The counts of jobs by state are <see cref="JobServer.GetJobs"/>' (read through <see cref="JobServer.CountJobs"/>), and
/// each worker's running jobs are the ones in the state <see cref="JobState.Running"/> there, so the page and that
/// API agree. A local worker's memory and CPU are read from the process; a node's workers' come from the node's
/// answers to the client's heartbeat (<see cref="Messages.NodeLoad"/>, every few seconds).
/// </remarks>
internal sealed class DashboardCollector : IJobObserver, IDisposable
{
    private const int MaxTasks = 2000;
    private const int MaxFailures = 50;
    private const int HistoryPoints = 300; // five minutes of one-second samples

    private readonly JobServer _server;
    private readonly Scheduler _scheduler;
    private readonly ConcurrentDictionary<WorkItem, Tracked> _jobs = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _gate = new();
    private readonly Lock _sampling = new();
    private readonly LinkedList<TaskBar> _tasks = new();
    private readonly LinkedList<Failure> _failures = new();
    private readonly LinkedList<Sample> _history = new();
    private readonly Dictionary<string, List<double>> _laneEnds = new(StringComparer.Ordinal);
    private readonly Dictionary<int, (TimeSpan Cpu, long At)> _cpu = [];
    private readonly Dictionary<(string Node, int Pid), (long CpuTicks, long At, double? Percent)> _remoteCpu = [];
    private readonly IDisposable _subscription;
    private readonly Timer _timer;
    private long _submitted;
    private long _completed;
    private long _failed;
    private long _taskSequence;
    private long _finishedAtLastSample;
    private TaskCompletionSource _tick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _state = "{}";

    public DashboardCollector(JobServer server)
    {
        _server = server;
        _scheduler = server.Scheduler;
        _subscription = JobEvents.Subscribe(this);
        Sample();
        _timer = new Timer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Completes at the next sample (about once a second).</summary>
    public Task NextSample => Volatile.Read(ref _tick).Task;

    /// <summary>The latest sample as JSON: totals, queue, workers, failures and the statistics table.</summary>
    public string State => Volatile.Read(ref _state);

    /// <summary>The task bars finished after <paramref name="sequence"/>, and the newest sequence number.</summary>
    public (IReadOnlyList<TaskBar> Tasks, long Sequence) TasksAfter(long sequence)
    {
        lock (_gate)
        {
            return ([.. _tasks.Where(t => t.Seq > sequence)], _taskSequence);
        }
    }

    /// <summary>The samples of the last minutes, oldest first.</summary>
    public IReadOnlyList<Sample> History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    void IJobObserver.OnEnqueued(Scheduler scheduler, WorkItem item)
    {
        if (scheduler == _scheduler)
        {
            _jobs[item] = new Tracked(item.Id, FunctionNames.Of(item.Function));
            Interlocked.Increment(ref _submitted);
        }
    }

    void IJobObserver.OnDispatched(Scheduler scheduler, WorkItem item, JobExecutor executor)
    {
        if (scheduler == _scheduler && _jobs.TryGetValue(item, out Tracked? tracked))
        {
            tracked.Worker = executor is Workers.LocalWorker local ? WorkerName(local.ProcessId) : null;
            tracked.Node = executor.Node;
        }
    }

    void IJobObserver.OnCompleted(WorkItem item, in WorkOutcome outcome)
    {
        if (!_jobs.TryRemove(item, out Tracked? tracked))
        {
            return;
        }

        bool failed = outcome.Kind != OutcomeKind.Succeeded;
        if (failed)
        {
            Interlocked.Increment(ref _failed);
        }
        else
        {
            Interlocked.Increment(ref _completed);
        }

        double end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        double start = end - outcome.Elapsed.TotalMilliseconds;
        lock (_gate)
        {
            if (tracked.Node is not null)
            {
                string lane = tracked.Worker ?? $"{tracked.Node} #{FreeLane(tracked.Node, start, end)}";
                Add(_tasks, new TaskBar(++_taskSequence, tracked.JobId, tracked.Function, lane, start, end, failed), MaxTasks);
            }

            if (failed)
            {
                Add(_failures, new Failure(tracked.JobId, tracked.Function, outcome.Node, end, PPSharpMetrics.ErrorType(outcome),
                    outcome.ErrorMessage ?? outcome.LocalError?.Message ?? string.Empty, outcome.ErrorStackTrace), MaxFailures);
            }
        }
    }

    void IJobObserver.OnCancelled(WorkItem item) => _jobs.TryRemove(item, out _);

    public void Dispose()
    {
        _subscription.Dispose();
        _timer.Dispose();
        Volatile.Read(ref _tick).TrySetResult();
    }

    internal static string WorkerName(int processId) => $"local pid {processId}";

    private static void Add<T>(LinkedList<T> list, T value, int max)
    {
        list.AddLast(value);
        if (list.Count > max)
        {
            list.RemoveFirst();
        }
    }

    /// <summary>A node's jobs share its workers: lay each bar on the first lane of that node free at its start.</summary>
    private int FreeLane(string node, double start, double end)
    {
        if (!_laneEnds.TryGetValue(node, out List<double>? ends))
        {
            _laneEnds[node] = ends = [];
        }

        int lane = ends.FindIndex(e => e <= start);
        if (lane < 0)
        {
            ends.Add(end);
            return ends.Count - 1;
        }

        ends[lane] = end;
        return lane;
    }

    private void Sample()
    {
        if (!_sampling.TryEnter())
        {
            return; // the previous sample is still being taken
        }

        try
        {
            SchedulerSnapshot snapshot = _scheduler.Observe();
            JobCounts counts = _server.CountJobs();
            long now = Environment.TickCount64;
            var remoteSeen = new HashSet<(string, int)>();
            var workers = snapshot.Executors.Select(e => Describe(e, now, remoteSeen)).ToList();
            foreach (int gone in _cpu.Keys.Except(workers.Select(w => w.Pid)).ToArray())
            {
                _cpu.Remove(gone); // a worker that exited or was replaced
            }

            foreach ((string, int) gone in _remoteCpu.Keys.Except(remoteSeen).ToArray())
            {
                _remoteCpu.Remove(gone); // a node's worker that was replaced, or a node that is gone
            }

            long finished = Interlocked.Read(ref _completed) + Interlocked.Read(ref _failed);
            var sample = new Sample(
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
                counts.Queued,
                finished - _finishedAtLastSample,
                workers.Sum(w => w.Busy));
            _finishedAtLastSample = finished;

            using var stats = new StringWriter();
            _server.PrintStats(stats);
            Failure[] failures;
            lock (_gate)
            {
                Add(_history, sample, HistoryPoints);
                failures = [.. _failures.Reverse()];
            }

            var state = new
            {
                time = sample.Time,
                ncpus = _server.Ncpus,
                workerCount = workers.Sum(w => w.Capacity),
                busy = sample.Busy,
                queued = counts.Queued,
                sent = counts.Sent,
                running = counts.Running,
                submitted = Interlocked.Read(ref _submitted),
                completed = Interlocked.Read(ref _completed),
                failed = Interlocked.Read(ref _failed),
                nodes = _server.GetActiveNodes().Keys.Where(n => n != "local").Order(StringComparer.Ordinal),
                workers,
                failures,
                stats = stats.ToString(),
                sample,
            };
            Volatile.Write(ref _state, JsonSerializer.Serialize(state, Json.Options));
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or IOException)
        {
            return; // the server was disposed under the sampler, or a worker went away mid-read: skip this sample
        }
        finally
        {
            _sampling.Exit();
        }

        Interlocked.Exchange(ref _tick, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private WorkerRow Describe(ExecutorSnapshot executor, long now, HashSet<(string, int)> remoteSeen)
    {
        var running = executor.Running.Select(i => _jobs.TryGetValue(i, out Tracked? t) ? $"#{t.JobId} {t.Function}" : $"#{i.Id}").ToArray();
        if (executor.IsRemote)
        {
            if (executor.Load is not { } load)
            {
                return new WorkerRow(executor.Node, executor.Node, 0, executor.Capacity, executor.Busy, executor.Sent, running, null, null);
            }

            NodeWorkerRow[] nodeWorkers = NodeUsage(executor.Node, load, remoteSeen);
            double? cpuSum = nodeWorkers.Any(w => w.Cpu is not null) ? Math.Round(nodeWorkers.Sum(w => w.Cpu ?? 0), 1) : null;
            return new WorkerRow(executor.Node, executor.Node, 0, executor.Capacity, executor.Busy, executor.Sent, running, nodeWorkers.Sum(w => w.Rss), cpuSum, nodeWorkers, load.WorkerCount);
        }

        (long? rss, double? cpu) = Usage(executor.ProcessId, now);
        return new WorkerRow(WorkerName(executor.ProcessId), executor.Node, executor.ProcessId, executor.Capacity, executor.Busy, executor.Sent, running, rss, cpu);
    }

    /// <summary>
    /// A node's workers as its latest report gives them, each with its CPU use (percent of one core) between the
    /// node's two latest reports, timed by the node's own clock.
    /// </summary>
    private NodeWorkerRow[] NodeUsage(string node, Messages.NodeLoad load, HashSet<(string, int)> remoteSeen)
    {
        var rows = new NodeWorkerRow[load.Workers.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            Messages.WorkerLoad worker = load.Workers[i];
            (string, int) key = (node, worker.ProcessId);
            remoteSeen.Add(key);
            bool known = _remoteCpu.TryGetValue(key, out (long CpuTicks, long At, double? Percent) last);
            double? percent = null;
            if (known && load.SampledAtMilliseconds == last.At)
            {
                percent = last.Percent; // the same report as at the last sample: the node answers every few seconds
            }
            else
            {
                if (known && load.SampledAtMilliseconds > last.At && worker.CpuTicks >= last.CpuTicks)
                {
                    percent = Math.Round(100.0 * (worker.CpuTicks - last.CpuTicks) / TimeSpan.TicksPerMillisecond / (load.SampledAtMilliseconds - last.At), 1);
                }

                _remoteCpu[key] = (worker.CpuTicks, load.SampledAtMilliseconds, percent);
            }

            rows[i] = new NodeWorkerRow(worker.ProcessId, worker.Busy, worker.ResidentBytes, percent);
        }

        return rows;
    }

    /// <summary>A local worker's resident memory (bytes) and CPU use (percent of one core) since the last sample.</summary>
    private (long? Rss, double? Cpu) Usage(int processId, long now)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            TimeSpan cpu = process.TotalProcessorTime;
            double? percent = null;
            if (_cpu.TryGetValue(processId, out (TimeSpan Cpu, long At) last) && now > last.At)
            {
                percent = Math.Round(100.0 * (cpu - last.Cpu).TotalMilliseconds / (now - last.At), 1);
            }

            _cpu[processId] = (cpu, now);
            return (process.WorkingSet64, percent);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Win32Exception)
        {
            return (null, null); // it has just exited
        }
    }

    private sealed class Tracked(long jobId, string function)
    {
        public long JobId { get; } = jobId;

        public string Function { get; } = function;

        /// <summary>The local worker it was sent to; null for a node (its lane is chosen when it finishes).</summary>
        public string? Worker { get; set; }

        public string? Node { get; set; }
    }
}

/// <summary>One finished job on the task stream: times in Unix milliseconds.</summary>
internal sealed record TaskBar(long Seq, long Job, string Function, string Lane, double Start, double End, bool Failed);

/// <summary>A failed job, with the remote stack trace.</summary>
internal sealed record Failure(long Job, string Function, string Node, double Time, string Type, string Message, string? StackTrace);

/// <summary>One point of the charts: Unix seconds, queue length, jobs finished in the last second, busy workers.</summary>
internal sealed record Sample(double Time, int Queued, long Throughput, int Busy);

/// <summary>
/// A local worker process, or a remote node (with its worker count), as the page lists it: its running jobs (those said
/// to have started), how many it holds sent ahead, memory (bytes) and CPU (percent of one core). A node's memory and
/// CPU are its listed workers' sums, and <see cref="NodeWorkers"/> lists them (of <see cref="NodeWorkerCount"/>).
/// </summary>
internal sealed record WorkerRow(string Name, string Node, int Pid, int Capacity, int Busy, int Sent, string[] Running, long? Rss, double? Cpu, NodeWorkerRow[]? NodeWorkers = null, int? NodeWorkerCount = null);

/// <summary>One worker process of a node, from the node's latest report: its pid there, memory (bytes) and CPU (percent of one core).</summary>
internal sealed record NodeWorkerRow(int Pid, bool Busy, long Rss, double? Cpu);

/// <summary>The page's JSON: camelCase.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
