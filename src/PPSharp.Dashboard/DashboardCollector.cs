using System.Collections.Concurrent;
using System.ComponentModel;
using System.Text.Json;
using PPSharp.Diagnostics;
using PPSharp.Scheduling;

namespace PPSharp.Dashboard;

/// <summary>
/// Follows one job server's jobs through the core's job event hook and samples its workers once a second: the data
/// behind the page. Everything it keeps is bounded (the last tasks, failures and minutes). It never reads options,
/// so the secret cannot reach the page.
/// </summary>
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
            long now = Environment.TickCount64;
            var workers = snapshot.Executors.Select(e => Describe(e, now)).ToList();
            foreach (int gone in _cpu.Keys.Except(workers.Select(w => w.Pid)).ToArray())
            {
                _cpu.Remove(gone); // a worker that exited or was replaced
            }

            long finished = Interlocked.Read(ref _completed) + Interlocked.Read(ref _failed);
            var sample = new Sample(
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
                snapshot.QueueLength,
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
                queued = snapshot.QueueLength,
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

    private WorkerRow Describe(ExecutorSnapshot executor, long now)
    {
        var running = executor.Running.Select(i => _jobs.TryGetValue(i, out Tracked? t) ? $"#{t.JobId} {t.Function}" : $"#{i.Id}").ToArray();
        if (executor.IsRemote)
        {
            return new WorkerRow(executor.Node, executor.Node, 0, executor.Capacity, executor.Busy, running, null, null);
        }

        (long? rss, double? cpu) = Usage(executor.ProcessId, now);
        return new WorkerRow(WorkerName(executor.ProcessId), executor.Node, executor.ProcessId, executor.Capacity, executor.Busy, running, rss, cpu);
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

/// <summary>A local worker process, or a remote node (with its worker count), as the page lists it.</summary>
internal sealed record WorkerRow(string Name, string Node, int Pid, int Capacity, int Busy, string[] Running, long? Rss, double? Cpu);

/// <summary>The page's JSON: camelCase.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
