using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using PPSharp.Diagnostics;
using PPSharp.Execution;
using PPSharp.Protocol;
using PPSharp.Serialization;

namespace PPSharp.Workers;

/// <summary>
/// The worker side of a local worker channel: connects back to the job server, then runs the jobs it receives one at a
/// time, in order, on the main thread, while the read loop keeps receiving jobs ahead. Exits as soon as the job
/// server's end of the channel closes without a Shutdown (the server's process has died, even by kill -9), so no worker
/// outlives its server.
/// </summary>
/// <remarks>
/// The job thread writes its own answers to the socket (<see cref="WorkerChannelWriter"/>), with no hand-off to another
/// thread: it goes from one job to the next without waiting for anything. Jobs held ahead can be taken back
/// (RevokeJob) or cancelled until the moment the job thread takes them, decided under one lock
/// (<see cref="PendingJobs"/>), so a job the server took back never runs here.
/// </remarks>
internal static class WorkerHost
{
    /// <summary>Exit code of a worker that ended itself because its job ran past its time limit and did not stop.</summary>
    public const int TimedOutExitCode = 97;

    /// <summary>Exit code of a worker that ended itself because its cancelled job did not stop within the grace period.</summary>
    public const int CancelledExitCode = 96;

    public static void Run(string endpoint, string token)
    {
        // Children of this worker must not become workers too.
        Environment.SetEnvironmentVariable(WorkerEnvironment.Endpoint, null);
        Environment.SetEnvironmentVariable(WorkerEnvironment.Token, null);
        Environment.SetEnvironmentVariable(WorkerEnvironment.StartupHooks, null);
        int maxFrame = int.TryParse(Environment.GetEnvironmentVariable(WorkerEnvironment.MaxFrame), out int m) ? m : int.MaxValue;
        Environment.SetEnvironmentVariable(WorkerEnvironment.MaxFrame, null);
        var grace = TimeSpan.FromMilliseconds(long.TryParse(Environment.GetEnvironmentVariable(WorkerEnvironment.GraceMilliseconds), out long g) ? g : 2000);
        Environment.SetEnvironmentVariable(WorkerEnvironment.GraceMilliseconds, null);

        // Ctrl-C in a terminal signals the whole process group: the job server decides when its workers stop (and they
        // stop by themselves when it exits), so a worker must not die first and fail the job it is running.
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);
        int maxOutput = int.TryParse(Environment.GetEnvironmentVariable(WorkerEnvironment.MaxOutput), out int o) ? o : JobServerOptions.DefaultMaxJobOutputSize;
        Environment.SetEnvironmentVariable(WorkerEnvironment.MaxOutput, null);
        OutputCapture output = OutputCapture.Install(maxOutput);
        MeterStartup.Begin(); // the channel counts its bytes: the meter is made while the worker connects and says hello
        // One socket each way (SplitSocketStream says why): first the one this worker reads, with a Hello on it that
        // is there before the second connects, then the one it writes.
        var hello = new Messages.Hello(Messages.ProtocolVersion, token, Environment.ProcessId, Messages.BuildId);
        Socket incoming = Connect(endpoint);
        new WorkerChannelWriter(incoming, maxFrame).SendNow(hello);
        Socket outgoing = Connect(endpoint);
        var channel = new WorkerChannelWriter(outgoing, maxFrame);
        var jobs = new PendingJobs();
        var functions = new FunctionTable();
        bool shuttingDown = false;
        var connection = new FrameConnection(new NetworkStream(incoming, ownsSocket: false), maxFrame, (type, payload) =>
        {
            switch (type)
            {
                case MessageType.DefineFunction:
                    functions.Define(payload);
                    break;
                case MessageType.RunJob:
                    Messages.RunJob header = Messages.RunJob.Read(payload, out ReadOnlySequence<byte> body);
                    jobs.Add(new IncomingJob(header, body));
                    break;
                case MessageType.RevokeJob:
                    long revoked = Messages.JobSignal.Read(payload);
                    if (jobs.TryRemove(revoked))
                    {
                        channel.SendNow(new Messages.JobSignal(MessageType.JobRevoked, revoked));
                    }

                    break;
                case MessageType.CancelJob:
                    Messages.CancelJob cancel = Messages.CancelJob.Read(payload);
                    if (jobs.TryRemove(cancel.JobId))
                    {
                        channel.SendNow(new Messages.JobSignal(MessageType.JobRevoked, cancel.JobId));
                    }
                    else
                    {
                        jobs.CancelRunning(cancel.JobId, TimeSpan.FromMilliseconds(cancel.GraceMilliseconds), channel);
                    }

                    break;
                case MessageType.Ping:
                    channel.SendNow(Signal.Pong); // from the read loop: a busy worker is never taken for a frozen one
                    break;
                case MessageType.Shutdown:
                    Volatile.Write(ref shuttingDown, true);
                    jobs.Complete();
                    break;
                default:
                    throw new ProtocolException($"A worker does not accept {type} frames.");
            }
        }, readOnOwnThread: true) // one busy connection: a thread that blocks in receive saves two hand-offs per read
        {
            AfterFrames = jobs.Publish, // a read's jobs reach the job thread together
        };
        connection.Completion.ContinueWith(
            _ =>
            {
                if (!Volatile.Read(ref shuttingDown))
                {
                    Environment.Exit(0); // The job server is gone: do not outlive it.
                }
            },
            TaskScheduler.Default);
        connection.Start();
        channel.SendNow(hello);

        var results = new ArrayBufferWriter<byte>(256);
        DeepStack.OnLargeStack(() => ServeJobs(jobs, channel, functions, output, results, grace, maxFrame)); // deep values and deep recursion in jobs
        channel.Flush();
        outgoing.Shutdown(SocketShutdown.Send);
        connection.Completion.Wait(TimeSpan.FromSeconds(30));
        Environment.Exit(0);
    }

    private static Socket Connect(string endpoint)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(endpoint));
        }
        catch (SocketException)
        {
            Environment.Exit(3); // The server is already gone.
        }

        return socket;
    }

    private static bool ServeJobs(PendingJobs jobs, WorkerChannelWriter channel, FunctionTable functions, OutputCapture output, ArrayBufferWriter<byte> results, TimeSpan grace, int maxFrame)
    {
        while (jobs.Take(channel) is { } job)
        {
            if ((job.Header.Flags & Messages.RunFlags.AcknowledgeStart) != 0)
            {
                // On the wire, after every earlier answer, before the job runs: if the job then kills this process,
                // the server knows it was this one, and that the jobs before it had finished.
                channel.Append(new Messages.JobSignal(MessageType.JobStarted, job.Header.JobId));
                channel.Flush();
            }

            job.StartWatch(grace, channel);
            IOutgoingFrame answer = Execute(job, functions, output, results);
            jobs.Finished(job);
            if (!channel.Append(answer))
            {
                channel.Append(TooLarge(job, answer, maxFrame));
            }

            channel.FlushIfDue();
        }

        return true;
    }

    private static Messages.JobFailed TooLarge(IncomingJob job, IOutgoingFrame answer, int maxFrame) =>
        new(job.Header.JobId, 0, null, typeof(InvalidOperationException).FullName!,
            $"The job's answer ({answer.Type}) is larger than the message size limit of {maxFrame} bytes (JobServerOptions.MaxMessageSize); the job ran, but its result cannot be sent back.",
            null);

    private static IOutgoingFrame Execute(IncomingJob job, FunctionTable functions, OutputCapture output, ArrayBufferWriter<byte> results)
    {
        results.ResetWrittenCount();
        output.Begin();
        long started = Stopwatch.GetTimestamp();
        using Activity? activity = PPSharpActivities.StartRun(job.Header.TraceParent); // current while the job runs
        Exception? error = null;
        JobToken.Current = job.Token;
        try
        {
            LoadedFunction function = functions.Get(job.Header.FunctionId);
            if (job.Header.ChunkSize > 0)
            {
                function.RunChunk(new ReadOnlySequence<byte>(job.Body), job.Header.ChunkSize, results);
            }
            else
            {
                function.Run(new ReadOnlySequence<byte>(job.Body), results);
            }
        }
        catch (JobCodeException ex)
        {
            error = ex.InnerException!;
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            JobToken.Current = default;
        }

        long elapsed = Stopwatch.GetElapsedTime(started).Ticks;
        string? text = output.End();
        if (job.TimedOut)
        {
            // Past its limit, whatever it returned: the caller asked for a result within the limit.
            return new Messages.JobFailed(job.Header.JobId, elapsed, text, typeof(JobTimeoutException).FullName!,
                new JobTimeoutException(job.Header.JobId, TimeSpan.FromMilliseconds(job.Header.TimeoutMilliseconds), null).Message, null);
        }

        if (error is null)
        {
            // Not copied: the answer is appended to the channel's buffer before the next job reuses `results`.
            return new Messages.JobSucceeded(job.Header.JobId, elapsed, text, results.WrittenMemory);
        }

        return ExceptionPayload.Failed(job.Header.JobId, elapsed, text, error);
    }

    /// <summary>Ends this process at once, with no clean-up that a stuck job could block.</summary>
    internal static void ExitNow(int code, WorkerChannelWriter channel)
    {
        channel.TryFlush(TimeSpan.FromSeconds(1)); // Answers of finished jobs go out first, so they are not run again.
        if (!OperatingSystem.IsWindows())
        {
            NativeExit(code);
        }

        Environment.FailFast($"PPSharp worker ended with code {code}.");
    }

    [DllImport("libc", EntryPoint = "_exit")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern void NativeExit(int code);
}

/// <summary>A job received and not yet answered, with what is needed to stop it.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "End disposes the timer; the token source is left to the collector, since a late Stop may still use it.")]
internal sealed class IncomingJob
{
    private readonly CancellationTokenSource _cancellation = new();
    private Timer? _watch;
    private int _ended;

    /// <summary>
    /// Copies <paramref name="body"/> (the read loop's buffer, reused once the frame handler returns). A large body
    /// goes into an array of <see cref="LargeArrays.Shared"/>, given back in <see cref="End"/>: a fresh array of a large
    /// argument's size costs more to fill than the job's own copy of the argument.
    /// </summary>
    public IncomingJob(Messages.RunJob header, ReadOnlySequence<byte> body)
    {
        Header = header;
        Body = LargeArrays.Shared.Copy(body);
    }

    public Messages.RunJob Header { get; }

    /// <summary>
    /// The job's function and arguments. Read only while the job runs: what it deserializes into is copied out (no
    /// formatter keeps a slice of it), and a large body's array goes to the next large job once this one has returned.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Handed to a job function that declares a <see cref="CancellationToken"/> parameter.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>True once the job passed its time limit.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Starts the time limit, if the job has one.</summary>
    public void StartWatch(TimeSpan grace, WorkerChannelWriter channel)
    {
        if (Header.TimeoutMilliseconds > 0)
        {
            _watch = new Timer(_ => Stop(grace, WorkerHost.TimedOutExitCode, channel, timedOut: true), null, Header.TimeoutMilliseconds, Timeout.Infinite);
        }
    }

    /// <summary>
    /// Signals the job's token; if the job is still running after <paramref name="grace"/>, ends this process with
    /// <paramref name="exitCode"/> (the server replaces it and reports the job as timed out or cancelled).
    /// </summary>
    public void Stop(TimeSpan grace, int exitCode, WorkerChannelWriter channel, bool timedOut)
    {
        if (Volatile.Read(ref _ended) != 0)
        {
            return;
        }

        TimedOut |= timedOut;
        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A registration the job made threw; the job is being stopped anyway.
        }

        _ = Task.Delay(grace).ContinueWith(
            _ =>
            {
                if (Volatile.Read(ref _ended) == 0)
                {
                    WorkerHost.ExitNow(exitCode, channel);
                }
            },
            TaskScheduler.Default);
    }

    /// <summary>The job has returned (its answer is built): nothing may stop it any more, and its body is not read again.</summary>
    public void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _watch?.Dispose();
            LargeArrays.Shared.Return(Body);
        }
    }
}

/// <summary>
/// The jobs held ahead, in order, and the one running. The read loop adds, takes back and cancels; the job thread takes
/// the next one. Both under one lock, so a job is either taken back or run, never both.
/// </summary>
internal sealed class PendingJobs
{
    private readonly object _gate = new(); // a monitor: the job thread waits on it for the next job
    private readonly LinkedList<IncomingJob> _queue = new();
    private readonly List<IncomingJob> _staged = []; // the read loop's own, until it publishes them
    private IncomingJob? _running;
    private bool _completed;

    /// <summary>
    /// Adds a job on the read loop; the job thread sees it at the next <see cref="Publish"/>. Staging a read's jobs and
    /// publishing them together matters for tiny jobs: were each job seen as it is read, the job thread would often run
    /// one, find the queue empty while the read loop is still reading the next, and write its answers and sleep once
    /// per job instead of once per burst (a system call and a wake-up each, on both sides of the socket).
    /// </summary>
    public void Add(IncomingJob job) => _staged.Add(job);

    /// <summary>Makes the staged jobs visible to the job thread, in order, and wakes it (read loop only).</summary>
    public void Publish()
    {
        if (_staged.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (IncomingJob job in _staged)
            {
                _queue.AddLast(job);
            }

            Monitor.Pulse(_gate);
        }

        _staged.Clear();
    }

    /// <summary>Takes back a job that has not started; false if it has (or is unknown). Read loop only.</summary>
    public bool TryRemove(long jobId)
    {
        Publish();
        lock (_gate)
        {
            for (LinkedListNode<IncomingJob>? node = _queue.First; node is not null; node = node.Next)
            {
                if (node.Value.Header.JobId == jobId)
                {
                    _queue.Remove(node);
                    return true;
                }
            }

            return false;
        }
    }

    public void CancelRunning(long jobId, TimeSpan grace, WorkerChannelWriter channel)
    {
        IncomingJob? running;
        lock (_gate)
        {
            running = _running?.Header.JobId == jobId ? _running : null;
        }

        running?.Stop(grace, WorkerHost.CancelledExitCode, channel, timedOut: false);
    }

    /// <summary>No more jobs will come (Shutdown): <see cref="Take"/> returns null once the queue is empty.</summary>
    public void Complete()
    {
        Publish();
        lock (_gate)
        {
            _completed = true;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>The next job, waiting if there is none; sends what is buffered before it waits. Null at the end.</summary>
    public IncomingJob? Take(WorkerChannelWriter channel)
    {
        lock (_gate)
        {
            if (_queue.Count == 0 && !_completed)
            {
                // About to wait: every finished job's answer goes out first. Written under this lock, so a RevokeJob
                // answer from the read loop waits briefly rather than being written between frames.
                channel.Flush();
                while (_queue.Count == 0 && !_completed)
                {
                    Monitor.Wait(_gate);
                }
            }

            if (_queue.First is not { } first)
            {
                return null;
            }

            _queue.RemoveFirst();
            _running = first.Value;
            return first.Value;
        }
    }

    public void Finished(IncomingJob job)
    {
        job.End();
        lock (_gate)
        {
            _running = null;
        }
    }
}

/// <summary>
/// Writes a worker's frames straight to its socket from the thread that has them, under a lock so frames never
/// interleave. Answers of short jobs are gathered and written a few at a time; anything urgent is flushed at once.
/// </summary>
internal sealed class WorkerChannelWriter(Socket socket, int maxFrame)
{
    /// <summary>
    /// Answers gathered before a write: fewer system calls and fewer wake-ups of the server for short jobs, yet it
    /// hears back often. Half the jobs a slot holds ahead at most (<c>FunctionDefinition.MaxAheadPerSlot</c>), so the
    /// worker still has work while the server answers a batch with the next jobs.
    /// </summary>
    internal const int MaxPendingFrames = 64;

    private const int MaxPendingBytes = 64 * 1024;

    /// <summary>
    /// How long the first gathered answer may wait while the worker is busy (it is written at once before the worker
    /// would wait): 8 ms, so that 1 ms jobs wake the client about once per eight, not once each.
    /// </summary>
    private static readonly long MaxPendingTicks = Stopwatch.Frequency * 8 / 1000;

    /// <summary>A buffer larger than this is returned to the pool once written out (a huge result's).</summary>
    private const int KeepCapacity = 1 << 20;

    private readonly Lock _gate = new();
    private readonly PooledBufferWriter _buffer = new();
    private int _pendingFrames;
    private long _firstPending;

    /// <summary>Adds a frame to the buffer; false (and nothing added) if it is larger than the peer accepts.</summary>
    public bool Append(IOutgoingFrame frame)
    {
        lock (_gate)
        {
            if (!FrameCodec.TryAppend(_buffer, frame, maxFrame, out _))
            {
                return false;
            }

            if (_pendingFrames++ == 0)
            {
                _firstPending = Stopwatch.GetTimestamp();
            }

            return true;
        }
    }

    /// <summary>Writes a frame now, with whatever is buffered before it.</summary>
    public void SendNow(IOutgoingFrame frame)
    {
        lock (_gate)
        {
            Append(frame);
            Flush();
        }
    }

    /// <summary>Writes the buffer out if enough has gathered, or it has waited long enough.</summary>
    public void FlushIfDue()
    {
        lock (_gate)
        {
            if (_pendingFrames >= MaxPendingFrames || _buffer.WrittenCount >= MaxPendingBytes || Stopwatch.GetTimestamp() - _firstPending >= MaxPendingTicks)
            {
                Flush();
            }
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            if (_buffer.WrittenCount == 0)
            {
                return;
            }

            try
            {
                ReadOnlySpan<byte> data = _buffer.WrittenSpan;
                while (!data.IsEmpty)
                {
                    data = data[socket.Send(data)..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The server is gone; the read loop sees it too and this process exits.
            }

            _pendingFrames = 0;
            if (_buffer.Capacity > KeepCapacity)
            {
                _buffer.Release();
            }
            else
            {
                _buffer.Reset();
            }
        }
    }

    /// <summary>Flushes unless another thread holds the writer for longer than <paramref name="timeout"/> (a blocked socket).</summary>
    public void TryFlush(TimeSpan timeout)
    {
        if (_gate.TryEnter(timeout))
        {
            try
            {
                Flush();
            }
            finally
            {
                _gate.Exit();
            }
        }
    }
}
