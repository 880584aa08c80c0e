using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PPSharp.Internal;
using PPSharp.Scheduling;
using PPSharp.Workers;

namespace PPSharp.Remote;

/// <summary>
/// A <c>ppserver</c> node: accepts authenticated clients over TCP and runs their jobs in its own local worker
/// processes, shared between clients. The <c>ppserver</c> program is a thin command line around it.
/// </summary>
/// <remarks>
/// Each client sends at most a few jobs per worker ahead (its scheduler keeps a node's in-flight jobs near a small
/// multiple of the node's worker count, and takes back what another place can start sooner), so the node's one
/// first-in first-out queue interleaves connected clients' jobs.
/// </remarks>
internal sealed class NodeHost : IAsyncDisposable
{
    private readonly NodeHostOptions _options;
    private readonly ILogger _logger;
    private readonly NodeStatistics _statistics = new();
    private readonly Scheduler _scheduler;
    private readonly Lock _gate = new();
    private readonly HashSet<ClientSession> _sessions = [];
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _created = Stopwatch.GetTimestamp();
    private LocalWorkerPool? _pool;
    private Socket? _listener;
    private CancellationTokenSource? _idleTimer;
    private Discovery.NodeAnnouncer? _announcer;
    private int _nextFunctionId;
    private long _nextJobId;
    private int _stopped;

    public NodeHost(NodeHostOptions options)
    {
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("PPSharp.Node");
        _scheduler = new Scheduler(_statistics, options.CancelGracePeriod);
        Load = new NodeLoadSampler(_scheduler);
        Cache = new AssemblyCache(options.CacheDirectory, options.CacheSizeLimit, _logger, HashesInUse);
        Guard = new AuthGuard(options.Secret ?? string.Empty, options.Salt, _logger);
    }

    /// <summary>Where the node listens, once started (the real port when <see cref="NodeHostOptions.Port"/> was 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? throw new InvalidOperationException("The node has not started.");

    /// <summary>Completes when no client has been connected for <see cref="NodeHostOptions.IdleTimeout"/>; never without one.</summary>
    public Task Idle => _idle.Task;

    public int Workers => _pool?.Target ?? 0;

    /// <summary>
    /// Why this node refuses clients: its workers cannot start (null while they can). Its jobs would only wait or fail
    /// here; refused, a client runs them on its other nodes, or, with none, fails them with this reason.
    /// </summary>
    internal string? Unable => Volatile.Read(ref _unable);

    private string? _unable;

    /// <summary>Workers could not start, several in a row: every client is told why and let go (its jobs here dropped).</summary>
    private void OnWorkersCannotStart(string failure)
    {
        string reason = $"this node cannot start worker processes ({failure.Trim()}); it takes clients again once one starts";
        Volatile.Write(ref _unable, reason);
        List<ClientSession> sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Where(s => s.IsAuthenticated)];
        }

        foreach (ClientSession session in sessions)
        {
            session.Dismiss(reason);
        }
    }

    internal AssemblyCache Cache { get; }

    /// <summary>The node's salt and derived secret, and the slowing-down and logging of failed handshakes.</summary>
    internal AuthGuard Guard { get; }

    internal Scheduler Scheduler => _scheduler;

    /// <summary>What the workers use, sent to each client in answer to its pings.</summary>
    internal NodeLoadSampler Load { get; }

    internal NodeHostOptions Options => _options;

    /// <summary>Binds, starts the workers and begins accepting clients.</summary>
    /// <exception cref="InvalidOperationException">The options are not allowed (no secret on a non-loopback interface).</exception>
    /// <exception cref="SocketException">The port cannot be bound.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Secret is null && !IPAddress.IsLoopback(_options.Interface))
        {
            throw new InvalidOperationException(
                $"Refusing to listen on {_options.Interface} without a secret: anyone who can reach it could run code here. Give a secret (-s or PPSHARP_SECRET), or listen on 127.0.0.1.");
        }

        var listener = new Socket(_options.Interface.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(_options.Interface, _options.Port));
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _pool = new LocalWorkerPool(_scheduler, _options.Restart ? 1 : _options.MaxJobsPerWorker, _options.MaxMessageSize, _logger)
        {
            HeartbeatTimeout = _options.HeartbeatTimeout,
            MaxJobOutputSize = _options.MaxJobOutputSize,
            CannotStart = OnWorkersCannotStart,
            StartedAgain = () => Volatile.Write(ref _unable, null),
            Target = _options.Workers ?? JobServer.DetectNcpus(),
        };
        Log.NodeListening(_logger, LocalEndPoint.ToString(), _pool.Target);
        if (_options.AutoDiscovery)
        {
            // Announced on the UDP port equal to the TCP port, as ppft does; the announcement carries the TCP port.
            _announcer = new Discovery.NodeAnnouncer(_options.Broadcast, LocalEndPoint.Port, _options.Interface, _logger);
        }

        StartIdleTimer();
        _ = Task.Run(AcceptLoopAsync, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>Prints ppft's statistics table for this node: its workers' jobs, from all clients, count as "local".</summary>
    public void PrintStats(TextWriter writer) =>
        StatisticsTable.Print(writer, _statistics.Snapshot(), _created, _scheduler.ActiveCount, Workers);

    /// <summary>Stops taking jobs, tells every client it is leaving (so they reschedule its jobs at once), ends the workers.</summary>
    public async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _announcer?.Dispose();
        _listener?.Dispose();
        List<ClientSession> sessions;
        lock (_gate)
        {
            sessions = [.. _sessions];
        }

        foreach (ClientSession session in sessions)
        {
            session.Leave();
        }

        await Task.WhenAll(sessions.Select(s => s.Closed.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        _scheduler.Close(() => new DestroyedServerException("The node is shutting down."));
        if (_pool is not null)
        {
            await _pool.DisposeAsync().ConfigureAwait(false);
        }

        _idle.TrySetResult();
        Guard.Dispose();
        Log.NodeStopped(_logger);
    }

    public ValueTask DisposeAsync() => StopAsync();

    internal int NextFunctionId() => Interlocked.Increment(ref _nextFunctionId);

    internal long NextJobId() => Interlocked.Increment(ref _nextJobId);

    internal ILogger Logger => _logger;

    /// <summary>The assemblies connected clients' functions use: the cache never evicts them.</summary>
    private HashSet<string> HashesInUse()
    {
        lock (_gate)
        {
            return _sessions.SelectMany(s => s.CodeSets).SelectMany(set => set.Split(',')).ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
    }

    internal void OnAuthenticated(ClientSession session)
    {
        lock (_gate)
        {
            _idleTimer?.Cancel();
            _idleTimer = null;
        }
    }

    internal void OnClosed(ClientSession session)
    {
        bool unused;
        lock (_gate)
        {
            _sessions.Remove(session);
            if (_sessions.All(s => !s.IsAuthenticated))
            {
                StartIdleTimerLocked();
            }

            HashSet<string> stillUsed = [.. _sessions.SelectMany(other => other.CodeSets)];
            unused = session.CodeSets.Any(set => !stillUsed.Contains(set));
        }

        // Its jobs belong to nobody now: queued ones are dropped, running ones stopped (their workers replaced if they
        // do not stop within the grace period), so a departed client's endless job does not hold a worker for ever.
        session.CancelAll();

        // Code no connected client uses any more is unloaded the one way that frees everything it holds (load
        // contexts, and the serializers' caches of its types): the workers that loaded it are replaced by fresh
        // ones, each after the job it is running.
        if (unused && _stopped == 0)
        {
            Log.WorkersRecycled(_logger);
            _pool?.Recycle();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            socket.NoDelay = true;
            ClientSession session;
            lock (_gate)
            {
                if (_sessions.Count >= _options.MaxConnections)
                {
                    // Closed at once; the refusal is logged like a failed handshake (one summary line per interval).
                    Guard.Failed((socket.RemoteEndPoint as IPEndPoint)?.Address, socket.RemoteEndPoint?.ToString() ?? "unknown peer", $"too many connections (the limit is {_options.MaxConnections}, --max-connections)");
                    socket.Dispose();
                    continue;
                }

                session = new ClientSession(this, socket);
                _sessions.Add(session);
            }

            session.Start();
        }
    }

    private void StartIdleTimer()
    {
        lock (_gate)
        {
            StartIdleTimerLocked();
        }
    }

    private void StartIdleTimerLocked()
    {
        if (_options.IdleTimeout is not { } timeout || _stopping.IsCancellationRequested)
        {
            return;
        }

        _idleTimer?.Cancel();
        var timer = new CancellationTokenSource();
        _idleTimer = timer;
        _ = Task.Delay(timeout, timer.Token).ContinueWith(
            t =>
            {
                if (!t.IsCanceled)
                {
                    Log.NodeIdle(_logger, timeout.TotalSeconds);
                    _idle.TrySetResult();
                }
            },
            TaskScheduler.Default);
    }
}
