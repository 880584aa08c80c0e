using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using PPSharp.Diagnostics;
using PPSharp.Internal;
using PPSharp.Scheduling;

namespace PPSharp;

/// <summary>
/// A submitted job whose function returns nothing (or a <see cref="Task"/>). Wait for it with <see cref="Wait()"/> or
/// <c>await</c>; both throw <see cref="JobFailedException"/> if it failed. See <see cref="Job{T}"/> for jobs with results.
/// </summary>
/// <remarks>
/// All members are safe to use from any thread. A job is completed only after its callback (if any) has run.
/// What the job wrote to the console is kept in <see cref="Output"/> and written to the caller's console the first
/// time the job is waited for or its result is read, as ppft does.
/// </remarks>
public class Job
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly JobServer _server;
    private Exception? _error;
    private int _outputShown;
#pragma warning disable CA1859 // Boxed on purpose: most jobs have no token, and a CancellationTokenRegistration field costs every queued job 16 bytes.
    private IDisposable? _cancellation;
#pragma warning restore CA1859

    /// <summary>The callback: an <see cref="Action"/> here, an <see cref="Action{T}"/> in <see cref="Job{T}"/> (one field for both).</summary>
    private protected readonly Delegate? Callback;

    /// <summary>The task <see cref="AsTask"/> gave (a <see cref="Task{T}"/> in <see cref="Job{T}"/>: one field for both).</summary>
    private protected Task? TaskGiven;

    private protected Job(JobServer server, string group, Delegate? callback)
    {
        _server = server;
        Group = group;
        Callback = callback;
    }

    internal static Job Create(JobServer server, string group, Action? callback) => new(server, group, callback);

    /// <summary>The job's number, unique within its server, increasing in submission order.</summary>
    public long Id { get; internal set; }

    /// <summary>The group given at submission (<see cref="JobServer.DefaultGroup"/> if none).</summary>
    public string Group { get; }

    /// <summary>True once the job has finished (succeeded, failed or was cancelled by destroying the server) and its callback has run.</summary>
    public bool IsCompleted => _done.Task.IsCompleted;

    /// <summary>True once the job has finished without a result: <see cref="Exception"/> says why.</summary>
    public bool IsFailed => IsCompleted && _error is not null;

    /// <summary>Why the job failed, once it has; null while it runs or if it succeeded.</summary>
    public Exception? Exception => IsCompleted ? _error : null;

    /// <summary>Where the job ran: "local" or "host:port"; null until it has finished.</summary>
    public string? Node => _ran?.Node;

    /// <summary>What the job wrote to <see cref="Console.Out"/> and <see cref="Console.Error"/>, merged in order; empty until it has finished. See <see cref="JobServerOptions.ConsoleOutput"/> for when it is shown.</summary>
    public string Output => _ran?.Output ?? string.Empty;

    /// <summary>How long the job's function ran, measured where it ran.</summary>
    public TimeSpan JobTime => _ran?.Time ?? TimeSpan.Zero;

    /// <summary>
    /// Where and how the job ran, set once when it finishes: one object, so that a queued job (a million may wait)
    /// carries one empty reference instead of four fields.
    /// </summary>
    private sealed record Ran(string? Node, string? Console, string Output, TimeSpan Time);

    private Ran? _ran;

    /// <summary>Set once the outcome (<see cref="_error"/>, the result) is recorded, before the callback runs.</summary>
    private volatile bool _outcomeKnown;

    internal Task Completion => _done.Task;

    /// <summary>
    /// Guards reading the result once (<see cref="Job{T}"/>): the completion source, which nothing outside ever sees, so no
    /// lock object of its own per job (a <see cref="Lock"/> would add 40 bytes to every queued job).
    /// </summary>
    private protected object ResultGate => _done;

    /// <summary>The scheduler's view of this job, once submitted.</summary>
    internal WorkItem? Item { get; set; }

    /// <summary>Links of <see cref="Internal.UnfinishedJobs"/>, which guards them.</summary>
    internal Job? PreviousUnfinished { get; set; }

    /// <inheritdoc cref="PreviousUnfinished"/>
    internal Job? NextUnfinished { get; set; }

    /// <summary>Where the job is now: queued, sent to a worker, running, or how it ended.</summary>
    public JobState State
    {
        get
        {
            if (IsCompleted || _outcomeKnown) // known once the outcome is in, before its callback has run
            {
                return _error switch
                {
                    null => JobState.Succeeded,
                    OperationCanceledException => JobState.Cancelled,
                    _ => JobState.Failed,
                };
            }

            return Item?.State switch
            {
                WorkState.Sent => JobState.Sent,
                WorkState.Running => JobState.Running,
                _ => JobState.Queued,
            };
        }
    }

    /// <summary>
    /// Cancels the job. A queued job leaves the queue and never runs. A running job's <see cref="CancellationToken"/>
    /// parameter (if its function declares one) is cancelled; if the job has not ended within
    /// <see cref="JobServerOptions.CancelGracePeriod"/>, its worker process is stopped and replaced. Either way the job
    /// then ends with <see cref="JobCancelledException"/> (an <see cref="OperationCanceledException"/>), and nothing else
    /// is disturbed.
    /// </summary>
    /// <returns>True if the job was still queued or running and is now cancelled; false if it had already finished.</returns>
    public bool Cancel() => Item is { } item && _server.Cancel(item);

    /// <summary>Cancels the job when <paramref name="token"/> is cancelled.</summary>
    internal void CancelWith(CancellationToken token)
    {
        if (token.CanBeCanceled)
        {
            _cancellation = token.UnsafeRegister(static state => ((Job)state!).Cancel(), this);
            if (IsCompleted)
            {
                _cancellation.Dispose(); // finished before the registration was stored: Finish could not dispose it
            }
        }
    }

    /// <summary>Blocks until the job has finished.</summary>
    /// <exception cref="JobFailedException">The job threw, or its worker died (<see cref="WorkerCrashedException"/>).</exception>
    /// <exception cref="DestroyedServerException">The server was destroyed before the job finished.</exception>
    /// <exception cref="InvalidOperationException">Called from a callback for a job that has not finished (it would deadlock).</exception>
    public void Wait()
    {
        Block();
        ShowOutput();
        ThrowIfFailed();
    }

    /// <summary>A task that completes when the job does, faulted with the job's failure.</summary>
    public Task AsTask() => TaskGiven ??= AwaitCompletionAsync();

    /// <summary>Lets a job be awaited: <c>await job</c> behaves as <see cref="Wait()"/> without blocking.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public JobAwaiter GetAwaiter() => new(this);

    /// <inheritdoc />
    public override string ToString() => $"Job {Id} ({Group}): {(IsCompleted ? (_error is null ? "done" : "failed") : "pending")}";

    private protected void Block()
    {
        if (IsCompleted)
        {
            return;
        }

        if (CallbackDispatcher.InCallback)
        {
            throw new InvalidOperationException(
                $"Job {Id} cannot be waited for inside a callback: callbacks run one at a time, so waiting there would deadlock. Wait outside the callback.");
        }

        _done.Task.GetAwaiter().GetResult();
    }

    private protected void ShowOutput()
    {
        if (Output.Length > 0 && _server.ConsoleOutput != ConsoleOutput.None && Interlocked.Exchange(ref _outputShown, 1) == 0)
        {
            JobConsole.Replay(_ran?.Console);
        }
    }

    private protected void ThrowIfFailed()
    {
        if (_error is not null)
        {
            ExceptionDispatchInfo.Throw(_error);
        }
    }

    private protected void Fail(Exception error) => _error ??= error;

    private async Task AwaitCompletionAsync()
    {
        await _done.Task.ConfigureAwait(false);
        ThrowIfFailed();
    }

    /// <summary>Takes the outcome from the scheduler (exactly once), then runs the callback or finishes.</summary>
    internal void Complete(in WorkOutcome outcome)
    {
        _ran = new Ran(outcome.Node, outcome.Output, Execution.ConsoleText.Merge(outcome.Output), outcome.Elapsed);
        if (_server.ConsoleOutput == ConsoleOutput.OnCompletion)
        {
            ShowOutput();
        }

        switch (outcome.Kind)
        {
            case OutcomeKind.Succeeded:
                AcceptResult(outcome.Result);
                break;
            case OutcomeKind.Failed when outcome.ErrorType == typeof(WorkerCrashedException).FullName:
                Fail(new WorkerCrashedException($"Job {Id} failed on {outcome.Node}: {outcome.ErrorMessage}", outcome.Node, null));
                break;
            case OutcomeKind.Failed when outcome.ErrorType == typeof(JobTimeoutException).FullName:
                Fail(new JobTimeoutException($"{outcome.ErrorMessage} (on {outcome.Node})"));
                break;
            case OutcomeKind.Failed:
                Fail(new JobFailedException(
                    $"Job {Id} failed on {outcome.Node}: {outcome.ErrorType}: {outcome.ErrorMessage}",
                    outcome.ErrorType,
                    outcome.ErrorMessage,
                    outcome.ErrorStackTrace,
                    outcome.Node,
                    Serialization.ExceptionPayload.Recreate(outcome)));
                break;
            default:
                Fail(outcome.LocalError ?? new JobFailedException($"Job {Id} was lost."));
                break;
        }

        _outcomeKnown = true;
        if ((_error is null && HasCallback) || _server.HasJobFinishedHandlers)
        {
            _server.Callbacks.Post(this);
        }
        else
        {
            Finish();
        }
    }

    private protected bool HasCallback => Callback is not null;

    private protected virtual void AcceptResult(ReadOnlyMemory<byte> result)
    {
    }

    /// <summary>Runs the callback on the callback thread; its exceptions are reported, never lost and never fatal.</summary>
    internal void RunCallback()
    {
        try
        {
            if (_error is null)
            {
                InvokeCallback();
            }
        }
        catch (Exception ex)
        {
            _server.ReportCallbackFailure(this, ex);
        }

        _server.RaiseJobFinished(this, _error);
        Finish();
    }

    private protected virtual void InvokeCallback() => (Callback as Action)?.Invoke();

    private void Finish()
    {
        _cancellation?.Dispose();
        _done.TrySetResult();
        _server.OnJobFinished(this);
    }
}

/// <summary>
/// A submitted job whose function returns a <typeparamref name="T"/>: read <see cref="Result"/> (blocks) or
/// <c>await</c> it.
/// </summary>
/// <typeparam name="T">The function's result type (for an async function, the type its task yields).</typeparam>
public sealed class Job<T> : Job
{
    /// <summary>
    /// The result's bytes until they are read: the array itself when they fill one (small results), else their
    /// <see cref="ReadOnlyMemory{T}"/> boxed (a large result in a reused array). One reference rather than a 16-byte
    /// <see cref="ReadOnlyMemory{T}"/> field: every queued job pays for this field, only large results for the box.
    /// </summary>
    private object? _serialized;
    private T _value = default!;
    private bool _hasValue;

    internal Job(JobServer server, string group, Action<T>? callback)
        : base(server, group, callback)
    {
    }

    /// <summary>The job's result; blocks until the job has finished.</summary>
    /// <exception cref="JobFailedException">The job threw, its worker died (<see cref="WorkerCrashedException"/>), or the result could not be read.</exception>
    /// <exception cref="DestroyedServerException">The server was destroyed before the job finished.</exception>
    /// <exception cref="InvalidOperationException">Read inside a callback before the job has finished (it would deadlock).</exception>
    public T Result
    {
        get
        {
            Block();
            ShowOutput();
            return GetValue();
        }
    }

    /// <summary>A task that completes with the job's result, or faults with its failure.</summary>
    public new Task<T> AsTask() => (Task<T>)(TaskGiven ??= AwaitResultAsync());

    /// <summary>Lets a job be awaited: <c>await job</c> gives <see cref="Result"/> without blocking.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public new JobAwaiter<T> GetAwaiter() => new(this);

    private protected override void AcceptResult(ReadOnlyMemory<byte> result) =>
        _serialized = MemoryMarshal.TryGetArray(result, out ArraySegment<byte> whole) && whole.Array is { } array && whole.Offset == 0 && whole.Count == array.Length
            ? array
            : result;

    private protected override void InvokeCallback()
    {
        if (Callback is not Action<T> callback)
        {
            return; // posted for JobServer.JobFinished only
        }

        T value;
        try
        {
            value = GetValue();
        }
        catch (JobFailedException)
        {
            return; // The job failed after all (its result could not be read): no callback, the error is in the job.
        }

        callback(value);
    }

    private async Task<T> AwaitResultAsync()
    {
        await Completion.ConfigureAwait(false);
        return GetValue();
    }

    /// <summary>Deserializes the result once, on the first thread that asks; a result that cannot be read fails the job.</summary>
    private T GetValue()
    {
        ThrowIfFailed();
        lock (ResultGate)
        {
            if (!_hasValue)
            {
                try
                {
                    ReadOnlyMemory<byte> bytes = _serialized switch
                    {
                        byte[] array => array,
                        ReadOnlyMemory<byte> memory => memory,
                        _ => ReadOnlyMemory<byte>.Empty,
                    };
                    _value = Serialization.JobPayload.ReadResult<T>(bytes);
                    _hasValue = true;
                    Protocol.LargeArrays.Shared.Return(bytes); // read once: a large result's array goes to the next one
                    _serialized = null;
                }
                catch (Exception ex) when (ex is Serialization.PayloadSerializationException or MessagePack.MessagePackSerializationException)
                {
                    Fail(new JobFailedException($"The result of job {Id} could not be read: {(Serialization.PayloadSerializationException.Find(ex) ?? ex).Message}", ex));
                }
            }
        }

        ThrowIfFailed();
        return _value;
    }
}

/// <summary>Awaiter for <see cref="Job"/>; not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct JobAwaiter : ICriticalNotifyCompletion
{
    private readonly Job _job;

    internal JobAwaiter(Job job) => _job = job;

    /// <summary>Whether the job has finished.</summary>
    public bool IsCompleted => _job.IsCompleted;

    /// <summary>Ends the await: shows the job's output and throws its failure, if any.</summary>
    public void GetResult() => _job.Wait();

    /// <inheritdoc />
    public void OnCompleted(Action continuation) => _job.Completion.GetAwaiter().OnCompleted(continuation);

    /// <inheritdoc />
    public void UnsafeOnCompleted(Action continuation) => _job.Completion.GetAwaiter().UnsafeOnCompleted(continuation);
}

/// <summary>Awaiter for <see cref="Job{T}"/>; not for direct use.</summary>
/// <typeparam name="T">The job's result type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct JobAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly Job<T> _job;

    internal JobAwaiter(Job<T> job) => _job = job;

    /// <summary>Whether the job has finished.</summary>
    public bool IsCompleted => _job.IsCompleted;

    /// <summary>Ends the await: the job's result (its output is shown), or its failure thrown.</summary>
    public T GetResult() => _job.Result;

    /// <inheritdoc />
    public void OnCompleted(Action continuation) => _job.Completion.GetAwaiter().OnCompleted(continuation);

    /// <inheritdoc />
    public void UnsafeOnCompleted(Action continuation) => _job.Completion.GetAwaiter().UnsafeOnCompleted(continuation);
}

/// <summary>The scheduler's view of a <see cref="Job"/>.</summary>
internal sealed class JobWorkItem(Job job, FunctionDefinition function, ReadOnlyMemory<byte> body, WorkSettings settings) : WorkItem(job.Id, function, body, settings)
{
    public override void Complete(in WorkOutcome outcome)
    {
        Telemetry.OnCompleted(this, outcome);
        job.Complete(outcome);
    }
}
