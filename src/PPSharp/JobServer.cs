using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PPSharp.Diagnostics;
using PPSharp.Discovery;
using PPSharp.Internal;
using PPSharp.Remote;
using PPSharp.Scheduling;
using PPSharp.Serialization;
using PPSharp.Workers;

namespace PPSharp;

/// <summary>
/// Runs functions in parallel in worker processes, as Parallel Python's <c>pp.Server</c> does: submit a function and
/// its arguments, get a <see cref="Job{T}"/> back, read its result when a worker has run it.
/// </summary>
/// <remarks>
/// <para>Workers are separate processes running this application's own assemblies, so any static method, lambda,
/// closure or bound instance method can be submitted without declaring dependencies. Arguments, captured variables and
/// results are copied (serialized); a function sees copies, never the caller's objects.</para>
/// <para>All members are thread-safe. <c>Submit</c> never blocks on workers: jobs queue (first in, first out) and go to
/// the first free worker. Disposing the server fails every unfinished job with <see cref="DestroyedServerException"/>
/// and ends the worker processes, which also end by themselves if this process dies.</para>
/// </remarks>
public sealed partial class JobServer : IDisposable, IAsyncDisposable
{
    /// <summary>The group of jobs submitted without one.</summary>
    public const string DefaultGroup = "default";

    private readonly ILogger _logger;
    private readonly NodeStatistics _statistics = new();
    private readonly Scheduler _scheduler;
    private readonly LocalWorkerPool _pool;
    private readonly FunctionCatalog _catalog = new();
    private readonly Lock _nodesGate = new();
    private readonly Dictionary<string, RemoteNode> _nodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly IDisposable[] _finders;
    private readonly string? _secret;
    private readonly TimeSpan _socketTimeout;
    private readonly int _maxMessageSize;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _tls;
    private readonly GroupTracker _groups = new();
    private readonly bool _loggingConfigured;
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly TimeSpan? _defaultTimeout;
    private readonly Internal.UnfinishedJobs _unfinished = new();
    private WorkSettings? _plainSettings; // the settings of a job without options, built once
    private long _nextJobId;
    private int _destroyed;

    /// <summary>Starts a job server with <paramref name="ncpus"/> local worker processes.</summary>
    /// <param name="ncpus">Number of local workers; null (the default) detects it (<see cref="DetectNcpus"/>); 0 runs nothing locally.</param>
    /// <param name="ppservers">Remote <c>ppserver</c> nodes, "host" or "host:port" (port 60000 when omitted).</param>
    /// <param name="secret">The nodes' shared secret.</param>
    /// <param name="restart">Start a fresh worker process for every job.</param>
    /// <param name="socketTimeout">How long a silent remote peer is trusted.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ncpus"/> is negative.</exception>
    public JobServer(int? ncpus = null, IEnumerable<string>? ppservers = null, string? secret = null, bool restart = false, TimeSpan? socketTimeout = null)
        : this(CreateOptions(ncpus, ppservers, secret, restart, socketTimeout))
    {
    }

    /// <summary>Starts a job server with the given options.</summary>
    /// <param name="options">The settings; see <see cref="JobServerOptions"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or size in <paramref name="options"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">This process is itself a worker whose start-up failed, or cannot start workers.</exception>
    public JobServer(JobServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int ncpus = options.Ncpus ?? DetectNcpus();
        ArgumentOutOfRangeException.ThrowIfNegative(ncpus, nameof(options.Ncpus));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMessageSize, 1024, nameof(options.MaxMessageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxJobOutputSize, 2, nameof(options.MaxJobOutputSize));
        // Every address is checked before anything starts, so a bad one leaves no worker or socket behind.
        string[] patterns = [.. options.PpServers.Where(NodeFinder.IsPattern)];
        string[] names = [.. options.PpServers.Where(DnsWatcher.IsDnsName)];
        string[] directories = [.. options.PpServers.Where(DirectoryWatcher.IsDirectory)];
        (string Host, int Port)[] nodes = [.. options.PpServers.Except(patterns).Except(names).Except(directories).Select(RemoteNode.Parse).Distinct()];
        Array.ForEach(patterns, p => NodeFinder.Parse(p));
        Array.ForEach(names, n => DnsWatcher.Parse(n));
        Array.ForEach(directories, d => DirectoryWatcher.Parse(d));
        TimeSpan socketTimeout = options.SocketTimeout ?? JobServerOptions.DefaultSocketTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(socketTimeout, TimeSpan.Zero, nameof(options.SocketTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxJobsPerWorker, nameof(options.MaxJobsPerWorker));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.HeartbeatTimeout, TimeSpan.FromMilliseconds(100), nameof(options.HeartbeatTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CancelGracePeriod, TimeSpan.Zero, nameof(options.CancelGracePeriod));
        if (options.DefaultJobTimeout is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(options.DefaultJobTimeout));
        }

        _defaultTimeout = options.DefaultJobTimeout;

        if (Environment.GetEnvironmentVariable(WorkerEnvironment.Endpoint) is not null)
        {
            // The worker start-up hook did not take over (startup hooks disabled?), so the application's Main is running
            // inside a would-be worker. Refuse, rather than start workers recursively.
            throw new InvalidOperationException(
                "This process was started as a PPSharp worker, but the worker start-up hook did not run (are .NET startup hooks disabled, for example by trimming?).");
        }

        _loggingConfigured = options.LoggerFactory is not null;
        _logger = (options.LoggerFactory ?? StandardErrorLoggerFactory.Instance).CreateLogger("PPSharp.JobServer");
        _scheduler = new Scheduler(_statistics, options.CancelGracePeriod);
        _pool = new LocalWorkerPool(_scheduler, options.Restart ? 1 : options.MaxJobsPerWorker, options.MaxMessageSize, _logger)
        {
            HeartbeatTimeout = options.HeartbeatTimeout,
            MaxJobOutputSize = options.MaxJobOutputSize,
        };
        if (options.WorkerInitializer is { } initializer)
        {
            (FunctionInfo info, object? target) = (_catalog.Get(initializer), initializer.Target);
            _scheduler.Initializer = new InitializerItem(info.Definition, JobPayload.WriteBody(info, target, new JobArguments()));
        }

        _pool.Target = ncpus;
        _secret = options.Secret;
        _socketTimeout = socketTimeout < options.HeartbeatTimeout ? socketTimeout : options.HeartbeatTimeout;
        _maxMessageSize = options.MaxMessageSize;
        _tls = options.Tls;
        ConsoleOutput = options.ConsoleOutput;
        foreach ((string host, int port) in nodes)
        {
            AddNode(host, port, persistent: true);
        }

        _finders = [.. patterns.Select(p => (IDisposable)NodeFinder.Start(p, OnNodeFound, _logger)), .. names.Select(n => DnsWatcher.Start(n, OnNodeFound, _logger)),
            .. directories.Select(d => DirectoryWatcher.Start(d, OnNodeFound, _logger))];

        Log.ServerStarted(_logger, ncpus);
    }

    /// <summary>The number of processors this process may use (honouring CPU affinity and container limits): the default worker count.</summary>
    public static int DetectNcpus() => Environment.ProcessorCount;

    /// <summary>
    /// The number of local worker processes. Setting it grows the pool at once, or shrinks it by retiring workers after
    /// their running job; no job is lost. With 0, jobs wait in the queue until workers are added.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative number.</exception>
    /// <exception cref="DestroyedServerException">Set after the server was destroyed.</exception>
    public int Ncpus
    {
        get => _pool.Target;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ThrowIfDestroyed();
            _pool.Target = value;
            Log.NcpusChanged(_logger, value);
        }
    }

    /// <summary>True once <see cref="Destroy"/> or <see cref="Dispose"/> has been called.</summary>
    public bool IsDestroyed => Volatile.Read(ref _destroyed) != 0;

    internal CallbackDispatcher Callbacks { get; } = new();

    internal ConsoleOutput ConsoleOutput { get; }

    /// <summary>The nodes jobs can run on now and their worker counts: "local" for this machine's workers, and each connected remote node as "host:port".</summary>
    public IReadOnlyDictionary<string, int> GetActiveNodes()
    {
        var nodes = new Dictionary<string, int>(StringComparer.Ordinal) { ["local"] = Ncpus };
        foreach (RemoteNode node in Nodes())
        {
            if (node.IsConnected)
            {
                nodes[node.Node] = node.Capacity;
            }
        }

        return nodes;
    }

    /// <summary>Per-node execution statistics: "local" always, and each node that has run a job.</summary>
    public IReadOnlyDictionary<string, NodeStats> GetStats()
    {
        Dictionary<string, (int Count, TimeSpan Time)> rows = _statistics.Snapshot();
        rows.TryAdd("local", (0, TimeSpan.Zero));
        IReadOnlyDictionary<string, int> active = GetActiveNodes();
        return rows.ToDictionary(
            r => r.Key,
            r => new NodeStats(active.GetValueOrDefault(r.Key), r.Value.Count, r.Value.Time),
            StringComparer.Ordinal);
    }

    /// <summary>Prints ppft's job execution statistics table to the console.</summary>
    public void PrintStats() => PrintStats(Console.Out);

    /// <summary>Prints ppft's job execution statistics table, column for column, to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where to print.</param>
    public void PrintStats(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StatisticsTable.Print(writer, _statistics.Snapshot(), _created, _scheduler.LocalRunningCount, Ncpus);
    }

    /// <summary>Blocks until every job submitted so far (of <paramref name="group"/>, or all if null) has finished and its callback has run.</summary>
    /// <param name="group">The group to wait for, or null for all jobs.</param>
    /// <exception cref="InvalidOperationException">Called from a callback while such jobs are unfinished (it would deadlock).</exception>
    /// <remarks>Does not throw for failed jobs; read their results to see failures.</remarks>
    public void Wait(string? group = null)
    {
        Task drained = _groups.WhenDrained(group);
        if (drained.IsCompleted)
        {
            return;
        }

        if (CallbackDispatcher.InCallback)
        {
            throw new InvalidOperationException("Jobs cannot be waited for inside a callback: callbacks run one at a time, so waiting there would deadlock.");
        }

        drained.GetAwaiter().GetResult();
    }

    /// <summary>Completes when every job submitted so far (of <paramref name="group"/>, or all if null) has finished and its callback has run.</summary>
    /// <param name="group">The group to wait for, or null for all jobs.</param>
    /// <param name="cancellationToken">Stops waiting (the jobs go on).</param>
    /// <returns>A task that completes when the jobs have finished.</returns>
    public Task WaitAsync(string? group = null, CancellationToken cancellationToken = default) =>
        _groups.WhenDrained(group).WaitAsync(cancellationToken);

    /// <summary>
    /// Blocks like <see cref="Wait(string?)"/>; with <paramref name="progress"/> true, draws a live progress bar of the
    /// jobs unfinished when it was called (done/total, rate, time left, failures) on the console's error stream when
    /// that is a terminal, and nothing when it is redirected.
    /// </summary>
    /// <param name="group">The group to wait for, or null for all jobs.</param>
    /// <param name="progress">Whether to draw the bar.</param>
    /// <exception cref="InvalidOperationException">Called from a callback while such jobs are unfinished (it would deadlock).</exception>
    public void Wait(string? group, bool progress)
    {
        if (!progress || !_groups.HasPending(group))
        {
            Wait(group);
            return;
        }

        if (CallbackDispatcher.InCallback)
        {
            Wait(group); // throws the same error as without a bar
        }

        Job[] jobs = UnfinishedOf(group);
        using Mapping.MapProgressDisplay? display = Mapping.MapProgressDisplay.ForConsole(jobs.Length);
        WaitReportingAsync(group, jobs, display, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Completes like <see cref="WaitAsync(string?, CancellationToken)"/>, reporting to <paramref name="progress"/> as
    /// each job unfinished at the call finishes (done/total, rate, time left, failures).
    /// </summary>
    /// <param name="group">The group to wait for, or null for all jobs.</param>
    /// <param name="progress">Receives a report after each job, and a last one when all are done; null for none.</param>
    /// <param name="cancellationToken">Stops waiting (the jobs go on).</param>
    /// <returns>A task that completes when the jobs have finished.</returns>
    public Task WaitAsync(string? group, IProgress<MapProgress>? progress, CancellationToken cancellationToken = default) =>
        progress is null ? WaitAsync(group, cancellationToken) : WaitReportingAsync(group, UnfinishedOf(group), progress, cancellationToken);

    private Job[] UnfinishedOf(string? group) => _unfinished.Snapshot(group);

    private async Task WaitReportingAsync(string? group, Job[] jobs, IProgress<MapProgress>? progress, CancellationToken cancellationToken)
    {
        Task drained = _groups.WhenDrained(group);
        if (progress is null)
        {
            await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int done = 0;
        int failed = 0;
        var gate = new Lock();
        Task[] reported = [.. jobs.Select(job => job.Completion.ContinueWith(
            _ =>
            {
                lock (gate)
                {
                    done++;
                    failed += job.IsFailed ? 1 : 0;
                    progress.Report(new MapProgress(done, jobs.Length, failed, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default))];

        // Every report made (the last says all are done), and every callback run (Wait's promise).
        await Task.WhenAll([drained, .. reported]).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ppft's name for <see cref="Dispose"/>.</summary>
    public void Destroy() => Dispose();

    /// <summary>
    /// Destroys the server: every queued or running job fails at once with <see cref="DestroyedServerException"/>,
    /// <c>Submit</c> throws it from now on, and the worker processes are ended. Safe to call more than once.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0)
        {
            return;
        }

        _scheduler.Close(() => new DestroyedServerException("The job server was destroyed before the job finished."));
        foreach (IDisposable finder in _finders)
        {
            finder.Dispose();
        }

        await Task.WhenAll(Nodes().Select(n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
        await _pool.DisposeAsync().ConfigureAwait(false);
        _ = Callbacks.Complete(); // not awaited: a callback that never returns must not hang Dispose
        Log.ServerDestroyed(_logger);
    }

    /// <summary>The common path of every <c>Submit</c>: serialize now (so errors surface here), then queue.</summary>
    /// <param name="function">A delegate, or a <see cref="SourceFunction"/>.</param>
    /// <param name="arguments">The job's arguments.</param>
    /// <param name="job">The job object to hand back, not yet numbered.</param>
    /// <param name="options">The job's settings, or null.</param>
    internal TJob Enqueue<TArgs, TJob>(object function, in TArgs arguments, TJob job, JobOptions? options)
        where TArgs : struct, IJobArguments
        where TJob : Job
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(job.Group, "group");
        ThrowIfDestroyed();
        WorkSettings settings = SettingsOf(options);
        FunctionInfo info = Describe(function);
        ReadOnlyMemory<byte> body = JobPayload.WriteBody(info, TargetOf(function), arguments);
        return Enqueue(job, info, body, settings, options?.CancellationToken ?? default);
    }

    /// <summary>Queues a job whose body is written: numbers it, tracks it, and ties it to its cancellation token.</summary>
    internal TJob Enqueue<TJob>(TJob job, FunctionInfo info, ReadOnlyMemory<byte> body, WorkSettings settings, CancellationToken cancellation)
        where TJob : Job
    {
        // Refused here, where only this job fails: sent, it would break the channel's limit and close it.
        const int HeaderRoom = 64;
        if (body.Length > _maxMessageSize - HeaderRoom)
        {
            throw new ArgumentException(
                $"The job cannot be sent: its function's captured values and arguments take {body.Length} bytes, over the message size limit of {_maxMessageSize} bytes (JobServerOptions.MaxMessageSize, less {HeaderRoom} bytes for the frame's header).",
                nameof(body));
        }

        job.Id = Interlocked.Increment(ref _nextJobId);
        var item = new JobWorkItem(job, info.Definition, body, settings);
        job.Item = item;
        _groups.Add(job.Group);
        _unfinished.Add(job);
        try
        {
            Telemetry.OnSubmitting(item, job);
            _scheduler.Enqueue(item);
            FailIfEveryNodeRefused();
        }
        catch
        {
            _unfinished.Remove(job);
            _groups.Done(job.Group);
            throw;
        }

        job.CancelWith(cancellation);
        return job;
    }

    /// <summary>The function's description, built once per function (ppft's transparent caching).</summary>
    internal FunctionInfo Describe(object function) => function switch
    {
        Delegate d => _catalog.Get(d),
        SourceFunction source => _catalog.Get(source),
        _ => throw new ArgumentException($"{function.GetType()} is neither a delegate nor a source function.", nameof(function)),
    };

    internal static object? TargetOf(object function) => (function as Delegate)?.Target;

    /// <summary>Checks a job's options and fills in the server's defaults.</summary>
    internal WorkSettings SettingsOf(JobOptions? options, int chunkSize = 0)
    {
        if (options is null && chunkSize == 0 && _plainSettings is { } plain)
        {
            return plain; // the usual case: every job without options shares one instance
        }

        TimeSpan? timeout = options?.Timeout ?? _defaultTimeout;
        if (timeout is { } limit && (limit <= TimeSpan.Zero || limit.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(options), limit, "A job's time limit must be positive and at most about 24 days.");
        }

        int retries = options?.Retries ?? 0;
        ArgumentOutOfRangeException.ThrowIfNegative(retries, nameof(JobOptions.Retries));
        long milliseconds = timeout is { } t ? Math.Max(1, (long)Math.Ceiling(t.TotalMilliseconds)) : 0;
        TimeSpan delay = options?.RetryDelay ?? TimeSpan.Zero;
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(JobOptions.RetryDelay));
        string[]? retryOn = options?.RetryOn is { Count: > 0 } types ? [.. types.Select(t => t?.FullName ?? throw new ArgumentException("RetryOn holds a null type.", nameof(options)))] : null;
        var settings = new WorkSettings(options?.Priority ?? 0, milliseconds, retries, chunkSize, retryOn, (long)delay.TotalMilliseconds);
        if (options is null && chunkSize == 0)
        {
            _plainSettings = settings;
        }

        return settings;
    }

    internal bool Cancel(WorkItem item) => _scheduler.Cancel(item);

    internal void OnJobFinished(Job job)
    {
        _unfinished.Remove(job);
        _groups.Done(job.Group);
    }

    /// <summary>
    /// The jobs not yet finished, oldest first, with their state and where they are: for tools and dashboards. Cheap:
    /// one pass over the unfinished jobs, without stopping the scheduler (each entry is as it was a moment ago).
    /// </summary>
    /// <returns>A snapshot of the unfinished jobs.</returns>
    public IReadOnlyList<JobInfo> GetJobs() =>
        [.. _unfinished.Snapshot().Select(j => new JobInfo(j.Id, j.Group, j.State, j.Item?.Executor?.Node))];

    private RemoteNode[] Nodes()
    {
        lock (_nodesGate)
        {
            return [.. _nodes.Values];
        }
    }

    /// <summary>A node announced itself (or DNS named it): connect, unless it is already known.</summary>
    private void OnNodeFound(string host, int port)
    {
        if (AddNode(host, port, persistent: false))
        {
            Log.NodeFound(_logger, $"{host}:{port}");
        }
    }

    private bool AddNode(string host, int port, bool persistent)
    {
        RemoteNode node;
        lock (_nodesGate)
        {
            string name = $"{host}:{port}";
            if (IsDestroyed || _nodes.ContainsKey(name))
            {
                return false;
            }

            node = new RemoteNode(host, port, _secret, _scheduler, _logger, _socketTimeout, _maxMessageSize, persistent, OnNodeGone) { Tls = _tls };
            _nodes[name] = node;
            node.Health.Refused += FailIfEveryNodeRefused;
        }

        _statistics.Ensure(node.Node);
        node.Start(); // Connections are made in the background: Submit never waits for the network.
        return true;
    }

    /// <summary>A discovered node stopped answering: forget it until it is found again.</summary>
    private void OnNodeGone(RemoteNode node)
    {
        lock (_nodesGate)
        {
            _nodes.Remove(node.Node);
        }
    }

    /// <summary>A callback threw: log it, or (with no logging configured) print it, so it is never silently lost.</summary>
    internal void ReportCallbackFailure(Job job, Exception exception)
    {
        if (_loggingConfigured)
        {
            Log.CallbackFailed(_logger, exception, job.Id);
        }
        else
        {
            Console.Error.WriteLine($"PPSharp: the callback of job {job.Id} threw: {exception}");
        }
    }

    private void ThrowIfDestroyed()
    {
        if (IsDestroyed)
        {
            throw new DestroyedServerException();
        }
    }

    private static JobServerOptions CreateOptions(int? ncpus, IEnumerable<string>? ppservers, string? secret, bool restart, TimeSpan? socketTimeout)
    {
        var options = new JobServerOptions { Ncpus = ncpus, Secret = secret, Restart = restart, SocketTimeout = socketTimeout };
        foreach (string server in ppservers ?? [])
        {
            options.PpServers.Add(server);
        }

        return options;
    }
}
