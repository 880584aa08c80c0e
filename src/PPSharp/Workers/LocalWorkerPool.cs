using Microsoft.Extensions.Logging;
using PPSharp.Internal;
using PPSharp.Scheduling;

namespace PPSharp.Workers;

/// <summary>
/// Keeps the number of local worker processes at <see cref="Target"/>: starts workers when it grows or one dies,
/// retires workers (after their running job) when it shrinks, and kills them all on dispose.
/// </summary>
internal sealed class LocalWorkerPool : IAsyncDisposable
{
    /// <summary>After this many workers in a row fail to start, queued jobs are failed (on a node, its clients are refused) rather than left waiting forever.</summary>
    private const int FailuresBeforeGivingUp = 3;

    private readonly Lock _gate = new();
    private readonly Scheduler _scheduler;
    private readonly ILogger _logger;
    private readonly string _directory;
    private readonly List<LocalWorker> _active = [];
    private readonly HashSet<LocalWorker> _all = [];
    private int _target;
    private int _nextSocket;
    private int _consecutiveFailures;
    private string? _lastFailure;
    private bool _unable; // gave up on starting workers; until one joins again
    private bool _disposed;

    // maxJobsPerWorker: jobs each worker runs before it is replaced; 0 never (1 is ppft's restart mode).
    public LocalWorkerPool(Scheduler scheduler, int maxJobsPerWorker, int maxFrameSize, ILogger logger)
    {
        _scheduler = scheduler;
        MaxJobsPerWorker = maxJobsPerWorker;
        MaxFrameSize = maxFrameSize;
        _logger = logger;
        _directory = CreatePrivateDirectory();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        Command = WorkerCommand.ForThisProcess().WithRuntimeConfigIn(_directory);
    }

    public WorkerCommand Command { get; }

    /// <summary>Run in each new worker before its first job (<see cref="JobServerOptions.WorkerInitializer"/>), or null.</summary>
    public InitializerItem? Initializer => _scheduler.Initializer;

    /// <summary>How long a worker may stay silent (not even answering a ping) before it is taken for frozen and ended.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = JobServerOptions.DefaultHeartbeatTimeout;

    /// <summary>Jobs each worker runs before it is replaced by a fresh process; 0 never.</summary>
    public int MaxJobsPerWorker { get; }

    public int MaxFrameSize { get; }

    /// <summary>
    /// Called, with the last failure, when <see cref="FailuresBeforeGivingUp"/> workers in a row could not start; null
    /// fails the queued jobs instead (a client's own pool). A node sets it to refuse its clients until a worker starts
    /// again (<see cref="StartedAgain"/>), so that they run their jobs elsewhere.
    /// </summary>
    public Action<string>? CannotStart { get; init; }

    /// <summary>Called when a worker joins after <see cref="CannotStart"/> was called.</summary>
    public Action? StartedAgain { get; init; }

    /// <summary>The most characters of a job's console output its worker keeps (head and tail).</summary>
    public int MaxJobOutputSize { get; init; } = JobServerOptions.DefaultMaxJobOutputSize;

    public int Target
    {
        get
        {
            lock (_gate)
            {
                return _target;
            }
        }

        set
        {
            lock (_gate)
            {
                _target = value;
                while (_active.Count < _target && !_disposed)
                {
                    StartLocked();
                }

                while (_active.Count > _target)
                {
                    // Prefer workers that are idle or not even started: nothing waits on them.
                    LocalWorker victim = _active.FirstOrDefault(w => !w.IsReady)
                        ?? _active.FirstOrDefault(w => w.InFlightCountUnsafe == 0)
                        ?? _active[^1];
                    _active.Remove(victim);
                    if (victim.IsReady)
                    {
                        _scheduler.Retire(victim);
                    }
                    else
                    {
                        victim.Kill();
                    }
                }
            }
        }
    }

    /// <summary>
    /// A started worker asks to receive jobs. Decided under the pool's lock, so a worker the pool has just decided to
    /// drop (the count shrank while it started) is never handed a job.
    /// </summary>
    public bool TryJoin(LocalWorker worker)
    {
        bool again;
        lock (_gate)
        {
            if (_disposed || !_active.Contains(worker))
            {
                return false;
            }

            worker.IsReady = true;
            _scheduler.AddExecutor(worker);
            again = _unable;
            _unable = false;
        }

        if (again)
        {
            Log.WorkersStartAgain(_logger);
            StartedAgain?.Invoke();
        }

        return true;
    }

    /// <summary>Replaces every worker with a fresh process, each old one after the job it is running.</summary>
    public void Recycle()
    {
        lock (_gate)
        {
            foreach (LocalWorker worker in _active.ToList())
            {
                _active.Remove(worker);
                if (worker.IsReady)
                {
                    _scheduler.Retire(worker);
                }
                else
                {
                    worker.Kill();
                }

                if (!_disposed && _active.Count < _target)
                {
                    StartLocked();
                }
            }
        }
    }

    /// <summary><paramref name="worker"/> has run its jobs; start its successor now, off the scheduler's lock.</summary>
    public void ReplaceLater(LocalWorker worker) => ThreadPool.QueueUserWorkItem(
        static state =>
        {
            (LocalWorkerPool pool, LocalWorker worker) = state;
            pool._scheduler.Retire(worker);
            lock (pool._gate)
            {
                if (pool._active.Remove(worker) && !pool._disposed && pool._active.Count < pool._target)
                {
                    pool.StartLocked();
                }
            }
        },
        (this, worker),
        preferLocal: false);

    /// <summary>A worker's process has ended (or never started properly).</summary>
    public void OnWorkerEnded(LocalWorker worker, bool started, string? failure)
    {
        bool giveUp = false, firstGiveUp = false;
        lock (_gate)
        {
            _all.Remove(worker);
            bool wasActive = _active.Remove(worker);
            if (started)
            {
                _consecutiveFailures = 0;
            }
            else
            {
                _consecutiveFailures++;
                _lastFailure = failure;
                giveUp = _consecutiveFailures >= FailuresBeforeGivingUp;
            }

            if (_disposed || !wasActive || _active.Count >= _target)
            {
                return;
            }

            if (!giveUp)
            {
                StartLocked();
            }

            firstGiveUp = giveUp && !_unable;
            _unable |= giveUp;
        }

        if (giveUp)
        {
            // Nothing hangs: jobs that no worker can take are failed (a node instead refuses its clients, which then run
            // them elsewhere or fail them with the node's reason), and starting is retried a little later.
            if (firstGiveUp)
            {
                Log.WorkersCannotStart(_logger, FailuresBeforeGivingUp, _lastFailure ?? "unknown");
            }

            if (CannotStart is { } cannotStart)
            {
                if (firstGiveUp)
                {
                    cannotStart(_lastFailure ?? "unknown");
                }
            }
            else
            {
                _scheduler.FailQueuedIfIdle(() => new WorkerCrashedException($"Local worker processes cannot start: {_lastFailure}"));
            }

            _ = RetryLaterAsync();
        }
    }

    private async Task RetryLaterAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        lock (_gate)
        {
            while (!_disposed && _active.Count < _target)
            {
                StartLocked();
            }
        }
    }

    private void StartLocked()
    {
        string socket = Path.Combine(_directory, $"w{++_nextSocket}.sock");
        var worker = new LocalWorker(this, _scheduler, socket, _logger);
        _active.Add(worker);
        _all.Add(worker);
        _ = Task.Run(worker.RunAsync);
    }

    /// <summary>A process that exits without disposing its server still ends its workers and removes its sockets.</summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        List<LocalWorker> workers;
        lock (_gate)
        {
            workers = [.. _all];
        }

        workers.ForEach(w => w.Kill());
        DeleteDirectory(_directory);
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        List<LocalWorker> workers;
        lock (_gate)
        {
            _disposed = true;
            _target = 0;
            workers = [.. _all];
            _active.Clear();
        }

        foreach (LocalWorker worker in workers)
        {
            worker.Kill();
        }

        await Task.WhenAll(workers.Select(w => w.WaitForExitAsync(TimeSpan.FromSeconds(10)))).ConfigureAwait(false);
        DeleteDirectory(_directory);
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Removes the socket directories of job servers whose process is gone (killed before it could clean up).</summary>
    private static void DeleteStaleDirectories(string root)
    {
        try
        {
            foreach (string path in Directory.EnumerateDirectories(root, "ppsharp-*"))
            {
                string[] parts = Path.GetFileName(path).Split('-');
                if (parts.Length == 3 && int.TryParse(parts[1], out int pid) && pid != Environment.ProcessId && !IsAlive(pid))
                {
                    DeleteDirectory(path);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// A fresh directory for the workers' sockets, readable by this user only, so no other user can connect in their
    /// place. Kept short: a Unix socket path must fit in about 100 bytes.
    /// </summary>
    private static string CreatePrivateDirectory()
    {
        string root = Path.GetTempPath();
        if (root.Length > 60)
        {
            root = "/tmp";
        }

        DeleteStaleDirectories(root);
        string path = Path.Combine(root, $"ppsharp-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
