using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Workers;

/// <summary>
/// One local worker process and its channel, a Unix domain socket in a directory only this user can enter (never the
/// process's stdout, which jobs may scribble on). Capacity one: the worker runs one job at a time.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The connection is disposed when RunAsync ends; Kill closes it early.")]
internal sealed class LocalWorker : JobExecutor
{
    /// <summary>How long a new process may take to connect back before it is considered failed.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a process whose channel broke may take to exit before it is killed.</summary>
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the Hello on the socket a worker reads may take once both are connected (it is sent before the second connects).</summary>
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(5);

    private const int StderrLines = 20;

    private readonly LocalWorkerPool _pool;
    private readonly Scheduler _scheduler;
    private readonly ILogger _logger;
    private readonly string _socketPath;
    private readonly string _token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly Queue<string> _stderr = new();
    private readonly TaskCompletionSource _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;
    private FrameConnection? _connection;
    private volatile bool _retiring;
    private volatile bool _stopping;
    private long _startedJob = -1;
    private volatile bool _unresponsive;
    private int _completedJobs;

    public LocalWorker(LocalWorkerPool pool, Scheduler scheduler, string socketPath, ILogger logger)
    {
        _pool = pool;
        _scheduler = scheduler;
        _socketPath = socketPath;
        _logger = logger;
    }

    public override string Node => "local";

    public override int Capacity => 1;

    /// <summary>A worker restarted after N jobs is never sent more than it will run (none ahead in restart mode).</summary>
    internal override int MaxHeld(WorkItem item) =>
        _pool.MaxJobsPerWorker > 0 ? Math.Min(base.MaxHeld(item), _pool.MaxJobsPerWorker - _completedJobs) : base.MaxHeld(item);

    public int ProcessId { get; private set; }

    /// <summary>True once connected and handed to the scheduler; set by the pool under its lock.</summary>
    public bool IsReady { get; set; }

    /// <summary>Starts the process, waits for it to connect, serves it until it ends, then tells the pool.</summary>
    public async Task RunAsync()
    {
        string? failure = null;
        try
        {
            failure = await StartAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            failure = ex.Message;
        }

        if (failure is not null)
        {
            Log.WorkerStartFailed(_logger, failure);
            Kill();
            _pool.OnWorkerEnded(this, started: false, failure);
            return;
        }

        if (_pool.Initializer is { } initializer)
        {
            // Before it joins: first on its channel, so it runs before any job.
            _connection!.Send(initializer.Function);
            _connection.Send(initializer);
        }

        if (_pool.TryJoin(this))
        {
            Log.WorkerReady(_logger, ProcessId);
        }
        else
        {
            Kill(); // Retired while it was starting.
        }

        Exception? reason = await WatchAsync(_connection!).ConfigureAwait(false);
        await OnChannelClosedAsync(reason).ConfigureAwait(false);
        await _connection!.DisposeAsync().ConfigureAwait(false);
        _pool.OnWorkerEnded(this, started: true, null);
    }

    private async Task<string?> StartAsync()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        listener.Listen(2); // the worker's two one-way sockets (SplitSocketStream)

        WorkerCommand command = _pool.Command;
        var info = new ProcessStartInfo(command.FileName, command.Arguments)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string? hooks = Environment.GetEnvironmentVariable(WorkerEnvironment.StartupHooks);
        info.Environment[WorkerEnvironment.StartupHooks] = string.IsNullOrEmpty(hooks) ? command.HookPath : hooks + Path.PathSeparator + command.HookPath;
        info.Environment[WorkerEnvironment.Endpoint] = _socketPath;
        info.Environment[WorkerEnvironment.Token] = _token;
        info.Environment[WorkerEnvironment.MaxFrame] = _pool.MaxFrameSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment[WorkerEnvironment.MaxOutput] = _pool.MaxJobOutputSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment[WorkerEnvironment.GraceMilliseconds] = ((long)_scheduler.CancelGracePeriod.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

        Process process = Process.Start(info) ?? throw new InvalidOperationException("The worker process did not start.");
        _process = process;
        ProcessId = process.Id;
        Log.WorkerStarting(_logger, ProcessId);
        process.StandardInput.Close();
        process.OutputDataReceived += (_, e) => OnRawOutput("stdout", e.Data);
        process.ErrorDataReceived += (_, e) => OnRawOutput("stderr", e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(StartTimeout);
        Task exited = ExitedAsync(process, StartTimeout);
        Task<SplitSocketStream> accepted = AcceptChannelAsync(listener, timeout.Token);
        if (await Task.WhenAny(accepted, exited).ConfigureAwait(false) != accepted || !accepted.IsCompletedSuccessfully)
        {
            // Whenever it ends: a pair accepted too late is closed, a failure observed.
            _ = accepted.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                    else
                    {
                        _ = t.Exception;
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
            return accepted.Exception?.InnerException is ProtocolException refused ? $"the process did not introduce itself: {refused.Message}{StderrTail()}"
                : process.HasExited ? $"the process exited with code {process.ExitCode} before connecting.{StderrTail()}" : "the process did not connect in time.";
        }

        File.Delete(_socketPath);
        _connection = new FrameConnection(accepted.Result, _pool.MaxFrameSize, OnFrame);
        _connection.Start();
        Task helloOrEnd = await Task.WhenAny(_hello.Task, _connection.Completion, exited).ConfigureAwait(false);
        if (helloOrEnd != _hello.Task || !_hello.Task.IsCompletedSuccessfully)
        {
            return $"the process did not introduce itself.{StderrTail()}";
        }

        return null;
    }

    /// <summary>
    /// Accepts the worker's two sockets: first the one it reads (this side writes), on which it says Hello before it
    /// connects the second, then the one it writes, whose Hello the connection's read loop checks.
    /// </summary>
    private async Task<SplitSocketStream> AcceptChannelAsync(Socket listener, CancellationToken cancellation)
    {
        Socket toWorker = await listener.AcceptAsync(cancellation).ConfigureAwait(false);
        try
        {
            Socket fromWorker = await listener.AcceptAsync(cancellation).ConfigureAwait(false);
            var stream = new SplitSocketStream(fromWorker, toWorker);
            try
            {
                CheckHello(ReadHello(toWorker, HelloTimeout));
                return stream;
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
        catch
        {
            toWorker.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the worker's Hello on the socket this side only writes to, and checks that nothing follows it. With
    /// <c>poll</c> and a receive that has data waiting, not an async receive: that would put the socket in the epoll
    /// set for good, where its writability would wake the epoll thread at every read of the worker's (the very wake
    /// the split avoids). The worker sent it before it connected the second socket, so it is there already.
    /// </summary>
    internal static Messages.Hello ReadHello(Socket socket, TimeSpan timeout)
    {
        const int MaxHello = 1024;
        var buffer = new byte[MaxHello];
        int filled = 0;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0 || !socket.Poll(TimeSpan.FromMilliseconds(left), SelectMode.SelectRead))
            {
                throw new ProtocolException($"no Hello within {timeout.TotalSeconds:0.#} s on the socket it reads.");
            }

            int read = socket.Receive(buffer.AsSpan(filled));
            if (read == 0)
            {
                throw new ProtocolException("it closed the socket it reads before saying Hello on it.");
            }

            filled += read;
            var received = new ReadOnlySequence<byte>(buffer, 0, filled);
            // A frame announced longer than the buffer is refused here, so the buffer never fills without one.
            if (FrameCodec.TryRead(ref received, MaxHello - FrameCodec.HeaderSize, out MessageType type, out ReadOnlySequence<byte> payload))
            {
                if (type != MessageType.Hello)
                {
                    throw new ProtocolException($"it sent {type} where its Hello belongs.");
                }

                if (!received.IsEmpty)
                {
                    throw new ProtocolException("it sent more than its Hello on the socket it reads.");
                }

                try
                {
                    return Messages.Hello.Read(payload);
                }
                catch (MessagePack.MessagePackSerializationException ex)
                {
                    throw new ProtocolException($"its Hello is malformed: {ex.Message}");
                }
            }
        }
    }

    private void CheckHello(Messages.Hello hello)
    {
        if (hello.Version != Messages.ProtocolVersion || hello.Token != _token)
        {
            throw new ProtocolException($"unexpected Hello (version {hello.Version}).");
        }

        if (hello.Build != Messages.BuildId)
        {
            throw new ProtocolException("the worker runs a different build of PPSharp than this process (was the application rebuilt while it ran?).");
        }
    }

    private void OnRawOutput(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        if (stream == "stderr")
        {
            lock (_stderr)
            {
                _stderr.Enqueue(line);
                if (_stderr.Count > StderrLines)
                {
                    _stderr.Dequeue();
                }
            }
        }

        Log.WorkerRawOutput(_logger, ProcessId, stream, line);
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            return _stderr.Count == 0 ? string.Empty : $" Its last error output:{Environment.NewLine}{string.Join(Environment.NewLine, _stderr)}";
        }
    }

    /// <summary>Handles a frame from the worker, on the channel's read loop.</summary>
    private void OnFrame(MessageType type, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case MessageType.Hello:
                CheckHello(Messages.Hello.Read(payload));
                _hello.TrySetResult();
                break;
            case MessageType.JobStarted:
                long started = Messages.JobSignal.Read(payload);
                Interlocked.Exchange(ref _startedJob, started);
                _scheduler.Started(this, started);
                break;
            case MessageType.Pong:
                break;
            case MessageType.JobRevoked:
                _scheduler.Revoked(this, Messages.JobSignal.Read(payload));
                break;
            case MessageType.JobSucceeded:
            case MessageType.JobFailed:
                (long id, WorkOutcome outcome) = Messages.ReadResult(type, payload, Node);
                if (InitializerItem.IsInitializer(id))
                {
                    if (outcome.Kind != OutcomeKind.Succeeded)
                    {
                        Log.WorkerInitializerFailed(_logger, ProcessId, $"{outcome.ErrorType}: {outcome.ErrorMessage}");
                    }

                    break;
                }

                // A result for a job no longer in flight here (the server was destroyed meanwhile) is dropped.
                _scheduler.Complete(this, id, outcome);

                break;
            default:
                throw new ProtocolException($"a worker may not send {type} frames.");
        }
    }

    /// <summary>
    /// Pings the worker while its channel is open. The worker answers from its read loop, even while a job runs, so
    /// only a frozen process (SIGSTOP, a debugger, swapped out for good) stays silent: past the heartbeat timeout it
    /// is ended, its running job fails and the jobs held ahead go elsewhere.
    /// </summary>
    private async Task<Exception?> WatchAsync(FrameConnection connection)
    {
        TimeSpan timeout = _pool.HeartbeatTimeout;
        TimeSpan interval = timeout / 4;
        Task<Exception?> closed = connection.Completion;
        while (await Task.WhenAny(closed, Task.Delay(interval)).ConfigureAwait(false) != closed)
        {
            if (connection.MillisecondsSinceReceived > timeout.TotalMilliseconds)
            {
                _unresponsive = true;
                Log.WorkerUnresponsive(_logger, ProcessId, timeout.TotalSeconds);
                Terminate();
                break;
            }

            connection.Send(Signal.Ping);
        }

        return await closed.ConfigureAwait(false);
    }

    /// <summary>The channel ended: find out how the process ended, and fail or requeue what it held.</summary>
    private async Task OnChannelClosedAsync(Exception? reason)
    {
        if (reason is ProtocolException protocol)
        {
            Log.WorkerProtocolError(_logger, ProcessId, protocol.Message);
        }

        Process process = _process!;
        if (!await ExitedAsync(process, ExitTimeout).ConfigureAwait(false))
        {
            Terminate(); // Its channel broke but it lives on: end it; this is still reported as a crash.
            await ExitedAsync(process, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        }

        if (_stopping || (_retiring && process.ExitCode == 0))
        {
            Log.WorkerRetired(_logger, ProcessId);
            _scheduler.RemoveExecutor(this, blame: null);
            return;
        }

        int code = process.ExitCode;
        string description = _unresponsive
            ? $"stopped answering for {_pool.HeartbeatTimeout.TotalSeconds:0.#} s (frozen?) and was ended"
            : DescribeExit(code);
        Log.WorkerCrashed(_logger, ProcessId, description);
        string tail = StderrTail();
        long started = Interlocked.Read(ref _startedJob);
        _scheduler.RemoveExecutor(this, held =>
        {
            // The job it acknowledged starting. A short job is not acknowledged (its round trip would cost as much as
            // the job), so the oldest one sent may or may not have started: it is not blamed but run again, this time
            // acknowledged, so that a job that does crash its worker is then blamed for certain, and one that had not
            // started does not fail.
            WorkItem? running = held.FirstOrDefault(i => i.Id == started);
            if (running is null)
            {
                if (held.Count > 0 && !held[0].AcknowledgeStart)
                {
                    held[0].MustAcknowledge = true;
                }

                return null;
            }

            Exception error = code switch
            {
                // The worker ended itself: the job ran past its limit, or was cancelled, and did not stop in time.
                WorkerHost.TimedOutExitCode when running.Settings.TimeoutMilliseconds > 0 =>
                    new JobTimeoutException(running.Id, TimeSpan.FromMilliseconds(running.Settings.TimeoutMilliseconds), Node),
                WorkerHost.CancelledExitCode => new JobCancelledException($"Job {running.Id} was cancelled; it did not stop within the grace period, so its worker process was replaced."),
                _ => new WorkerCrashedException($"The worker process {ProcessId} running job {running.Id} {description}.{tail}", Node, code),
            };
            return (running, error);
        });
    }

    /// <summary>Exit codes above 128 are how .NET reports a process killed by a signal on Unix.</summary>
    private static string DescribeExit(int code)
    {
        if (OperatingSystem.IsWindows() || code <= 128 || code > 128 + 64)
        {
            return $"exited with code {code}";
        }

        int signal = code - 128;
        string name = signal switch
        {
            1 => "SIGHUP",
            2 => "SIGINT",
            6 => "SIGABRT: Environment.FailFast, a stack overflow or another fatal error",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            15 => "SIGTERM",
            _ => $"signal {signal}",
        };
        return $"was killed by signal {signal} ({name}), exit code {code}";
    }

    internal override void Send(IOutgoingFrame frame) => _connection!.Send(frame);

    /// <summary>After its N jobs (one in restart mode), retire it: the pool starts a fresh one at once.</summary>
    internal override void OnJobCompleted()
    {
        if (_pool.MaxJobsPerWorker > 0 && ++_completedJobs >= _pool.MaxJobsPerWorker && Accepting)
        {
            Accepting = false;
            _pool.ReplaceLater(this);
        }
    }

    internal override void OnDrained()
    {
        _retiring = true;
        _connection?.Send(Messages.Shutdown.Instance);
        _connection?.CompleteSending();
    }

    /// <summary>Ends the process now, with everything it started; its end is not reported as a crash.</summary>
    public void Kill()
    {
        _stopping = true;
        Terminate();
    }

    private void Terminate()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }

        _connection?.Close();
    }

    public Task WaitForExitAsync(TimeSpan timeout) => _process is null ? Task.CompletedTask : ExitedAsync(_process, timeout);

    /// <summary>
    /// Waits for the process itself to exit, not for its output pipes to close as <see cref="Process.WaitForExitAsync"/>
    /// does: a child the job started may hold them open long after the worker died. True if it exited in time.
    /// </summary>
    private static async Task<bool> ExitedAsync(Process process, TimeSpan timeout)
    {
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => exited.TrySetResult();
        if (process.HasExited)
        {
            return true;
        }

        Task finished = await Task.WhenAny(exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        return finished == exited.Task || process.HasExited;
    }
}
