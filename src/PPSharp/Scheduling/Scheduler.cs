using System.Diagnostics;
using PPSharp.Diagnostics;
using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// The queue of jobs and the places that run them. Jobs leave the queue by priority, first-in first-out among equals,
/// for whichever executor has a free slot (local workers first, then the node with the most free capacity), and are
/// also queued ahead on busy executors so that a worker never waits for this process between two jobs. A job held
/// ahead that has not started is taken back (RevokeJob) as soon as another executor frees up with nothing left to
/// run: dynamic load balancing without a round trip per job.
/// </summary>
/// <remarks>
/// All state changes happen under one lock; outcomes are delivered outside it. Delivery is decided here: a job leaves
/// <see cref="JobExecutor.InFlight"/> under the lock exactly once (answered, revoked, or lost with its executor), and only
/// the path that removed it completes it or puts it back in the queue, so each job is delivered exactly once.
/// </remarks>
internal sealed partial class Scheduler
{
    private readonly Lock _gate = new();
    private readonly JobQueue _queue = new();
    private readonly List<JobExecutor> _executors = [];
    private readonly NodeStatistics _statistics;
    private long _sendSequence;
    private Func<Exception>? _closed;

    /// <summary>
    /// This client's worker initializer, or null: local workers run it as they start (<see cref="Workers.LocalWorkerPool"/>),
    /// and each node is sent it as it joins, before any job.
    /// </summary>
    public InitializerItem? Initializer { get; set; }

    public Scheduler(NodeStatistics statistics, TimeSpan cancelGracePeriod)
    {
        _statistics = statistics;
        CancelGracePeriod = cancelGracePeriod;
        TrackForMetrics();
    }

    /// <summary>How long a cancelled running job may take to end by itself before its worker process is stopped.</summary>
    public TimeSpan CancelGracePeriod { get; }

    /// <summary>Jobs queued or in flight.</summary>
    public int ActiveCount
    {
        get
        {
            lock (_gate)
            {
                int count = _queue.Count;
                foreach (JobExecutor executor in _executors)
                {
                    count += executor.InFlight.Count;
                }

                return count;
            }
        }
    }

    /// <summary>Jobs running on local workers (not queued, not sent ahead): ppft's "active tasks" in <c>print_stats</c>.</summary>
    public int LocalRunningCount
    {
        get
        {
            lock (_gate)
            {
                return _executors.Where(e => e.Priority == 0).Sum(e => Math.Min(e.InFlight.Count, e.Capacity));
            }
        }
    }

    /// <summary>Hands out what can go now: called when an owner that held back (<see cref="IJobOwner"/>) lets its jobs go again.</summary>
    public void Dispatch()
    {
        lock (_gate)
        {
            DispatchLocked();
        }
    }

    /// <summary>Queues a job. Throws what the close reason says once the scheduler is closed.</summary>
    public void Enqueue(WorkItem item)
    {
        lock (_gate)
        {
            if (_closed is not null)
            {
                throw _closed();
            }

            _queue.AddLast(item);
            Telemetry.OnEnqueued(this, item);
            DispatchLocked();
        }
    }

    public void AddExecutor(JobExecutor executor)
    {
        lock (_gate)
        {
            executor.Accepting = true;
            executor.DefinedFunctions.Clear(); // a new channel knows no functions yet
            executor.Initialized.Clear();
            if (Initializer is { } initializer && executor.ForwardsInitializer)
            {
                SendInitializerLocked(executor, initializer); // before any job: the node runs it on each worker first
            }

            _executors.Add(executor);
            DispatchLocked();
        }
    }

    /// <summary>
    /// Stops giving jobs to <paramref name="executor"/> and takes back those it holds ahead; it is told once its
    /// in-flight jobs are done.
    /// </summary>
    public void Retire(JobExecutor executor)
    {
        lock (_gate)
        {
            executor.Accepting = false;
            foreach (WorkItem item in executor.InFlight.Values)
            {
                if (item.State == WorkState.Sent)
                {
                    RevokeLocked(item);
                }
            }

            if (executor.InFlight.Count == 0)
            {
                executor.OnDrained();
            }
        }
    }

    /// <summary>The executor says the job has started running.</summary>
    public void Started(JobExecutor executor, long jobId)
    {
        WorkItem? item;
        lock (_gate)
        {
            if (!executor.InFlight.TryGetValue(jobId, out item))
            {
                return;
            }

            item.State = WorkState.Running;
            item.StartedAt = Stopwatch.GetTimestamp();
        }

        item.OnStarted();
    }

    /// <summary>A job's outcome arrived from <paramref name="executor"/>; returns false if that job was not in flight there.</summary>
    public bool Complete(JobExecutor executor, long jobId, in WorkOutcome outcome)
    {
        WorkItem? item;
        WorkOutcome final;
        lock (_gate)
        {
            if (!executor.InFlight.Remove(jobId, out item))
            {
                return false;
            }

            Release(executor, item);
            // A job's length teaches how far ahead to send its function's jobs; a relayed loss (a node's timeout or
            // cancellation, with no time of its own) teaches nothing.
            if (outcome.Kind == OutcomeKind.Succeeded || (outcome.Kind == OutcomeKind.Failed && !outcome.IsCrash && outcome.Elapsed > TimeSpan.Zero))
            {
                item.Function.Observe(outcome.Elapsed);
                _statistics.Record(outcome.Node, outcome.Elapsed);
            }

            executor.OnJobCompleted();
            DrainedCheckLocked(executor);
            bool done = Resolve(item, outcome, out final);
            DispatchLocked();
            if (!done)
            {
                return true;
            }
        }

        // Delivered exactly once: the item left InFlight under the lock above, so no other path can complete it.
        item.Finish(final);
        return true;
    }

    /// <summary>The executor gave a job back unstarted (answering RevokeJob or CancelJob).</summary>
    public void Revoked(JobExecutor executor, long jobId)
    {
        WorkItem? item;
        WorkOutcome final;
        lock (_gate)
        {
            if (!executor.InFlight.Remove(jobId, out item))
            {
                return;
            }

            Release(executor, item);
            DrainedCheckLocked(executor);
            bool done = ReturnOrRequeue(item, executor.Node, out final);
            DispatchLocked();
            if (!done)
            {
                return;
            }
        }

        item.Finish(final);
    }

    /// <summary>
    /// Cancels a job: a queued one leaves the queue at once (it never runs); one in flight is told to stop (CancelJob),
    /// and ends as cancelled whatever its executor reports next. False if it had already finished.
    /// </summary>
    public bool Cancel(WorkItem item)
    {
        lock (_gate)
        {
            if (!TryDropQueuedLocked(item))
            {
                if (item.State is not (WorkState.Sent or WorkState.Running) || item.CancelRequested)
                {
                    return false;
                }

                item.CancelRequested = true;
                item.Executor!.Send(new Messages.CancelJob(item.Id, (long)CancelGracePeriod.TotalMilliseconds));
                return true;
            }
        }

        item.Finish(WorkOutcome.Cancelled("local", item.Id));
        return true;
    }

    /// <summary>
    /// Whoever submitted <paramref name="item"/> wants it back unstarted (a node's client is moving it elsewhere): a
    /// queued job is answered "revoked" at once; one held ahead on a worker is asked back; a running one is left to finish.
    /// </summary>
    public void Revoke(WorkItem item)
    {
        lock (_gate)
        {
            if (!TryDropQueuedLocked(item))
            {
                if (item.State == WorkState.Sent)
                {
                    item.ReturnWhenRevoked = true;
                    RevokeLocked(item);
                }

                return;
            }
        }

        item.Finish(new WorkOutcome(OutcomeKind.Revoked, "local"));
    }

    /// <summary>
    /// The executor is gone (its process died or its channel broke). <paramref name="blame"/> picks, from the jobs it
    /// held in the order they were sent, the one it was running and the error for it; that job fails (or is retried,
    /// as its settings allow). Every other job never started there and goes back to the front of the queue, in order.
    /// Jobs lost with a node (no blame: any of them may have been running) count a loss each, and fail once they have
    /// been lost more often than their retries allow, so no job circulates for ever.
    /// </summary>
    public void RemoveExecutor(JobExecutor executor, Func<IReadOnlyList<WorkItem>, (WorkItem Item, Exception Error)?>? blame)
    {
        var finished = new List<(WorkItem Item, WorkOutcome Outcome)>();
        lock (_gate)
        {
            executor.Accepting = false;
            if (!_executors.Remove(executor))
            {
                return;
            }

            List<WorkItem> held = [.. executor.InFlight.Values.OrderBy(i => i.SendSequence)];
            executor.InFlight.Clear();
            executor.Revoking = 0;
            (WorkItem Item, Exception Error)? running = blame?.Invoke(held);
            if (running is { } guilty)
            {
                held.Remove(guilty.Item);
                guilty.Item.Revoking = false;
                if (Resolve(guilty.Item, WorkOutcome.Lost(executor.Node, guilty.Error), out WorkOutcome outcome))
                {
                    finished.Add((guilty.Item, outcome));
                }
            }

            bool nodeLost = blame is null && executor.Priority > 0;
            Telemetry.OnRequeued(held.Count, executor);
            for (int i = held.Count - 1; i >= 0; i--)
            {
                WorkItem item = held[i];
                item.Revoking = false;
                if (_closed is not null)
                {
                    item.State = WorkState.Done;
                    finished.Add((item, WorkOutcome.Lost(executor.Node, _closed())));
                }
                else if (nodeLost && ++item.NodeLosses > Math.Max(item.Settings.Retries, WorkSettings.MinNodeLossRetries))
                {
                    item.State = WorkState.Done;
                    finished.Add((item, WorkOutcome.Lost(executor.Node, new WorkerCrashedException(
                        $"Job {item.Id} was lost with its node {item.NodeLosses} times (last: {executor.Node}); it is not rescheduled again.", executor.Node, null))));
                }
                else if (ReturnOrRequeue(item, executor.Node, out WorkOutcome outcome))
                {
                    finished.Add((item, outcome));
                }
            }

            DispatchLocked();
        }

        finished.Reverse();
        foreach ((WorkItem item, WorkOutcome outcome) in finished)
        {
            item.Finish(outcome);
        }
    }

    /// <summary>Fails every job that is waiting for a place to run, while no executor can take them.</summary>
    public void FailQueuedIfIdle(Func<Exception> error)
    {
        List<WorkItem> queued;
        lock (_gate)
        {
            if (_executors.Exists(e => e.Accepting))
            {
                return;
            }

            queued = TakeQueuedLocked();
        }

        FailAll(queued, error(), "local");
    }

    /// <summary>Refuses new jobs from now on and fails every queued and in-flight job with the error.</summary>
    public void Close(Func<Exception> error)
    {
        List<(string Node, WorkItem Item)> pending;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return;
            }

            _closed = error;
            pending = [.. TakeQueuedLocked().Select(item => ("local", item))];
            foreach (JobExecutor executor in _executors)
            {
                executor.Accepting = false;
                foreach (WorkItem item in executor.InFlight.Values)
                {
                    item.State = WorkState.Done;
                    pending.Add((executor.Node, item));
                }

                executor.InFlight.Clear();
                executor.Revoking = 0;
            }

            _executors.Clear();
        }

        Exception reason = error();
        foreach ((string node, WorkItem item) in pending)
        {
            item.Finish(WorkOutcome.Lost(node, reason));
        }
    }

    /// <summary>Takes a job out of the queue without running it, if it is there (and the scheduler is open).</summary>
    private bool TryDropQueuedLocked(WorkItem item)
    {
        if (item.State == WorkState.Retrying)
        {
            item.State = WorkState.Done; // waiting out its retry delay, out of the queue
            return true;
        }

        if (item.State != WorkState.Queued || _closed is not null)
        {
            return false;
        }

        item.State = WorkState.Done;
        _queue.Forget();
        return true;
    }

    private List<WorkItem> TakeQueuedLocked()
    {
        List<WorkItem> queued = _queue.RemoveAll();
        queued.ForEach(item => item.State = WorkState.Done);
        return queued;
    }

    private static void FailAll(List<WorkItem> items, Exception error, string node)
    {
        foreach (WorkItem item in items)
        {
            item.Finish(WorkOutcome.Lost(node, error));
        }
    }

    /// <summary>The item has left its executor's in-flight set.</summary>
    private static void Release(JobExecutor executor, WorkItem item)
    {
        if (item.Revoking)
        {
            item.Revoking = false;
            executor.Revoking--;
        }

        item.Executor = null;
    }

    private static void DrainedCheckLocked(JobExecutor executor)
    {
        if (!executor.Accepting && executor.InFlight.Count == 0)
        {
            executor.OnDrained();
        }
    }

    /// <summary>
    /// Decides how a job that left its executor ends: cancelled if it was cancelled meanwhile; back in the queue if its
    /// worker crashed and it has retries left; else as reported. False when it went back to the queue.
    /// </summary>
    private bool Resolve(WorkItem item, in WorkOutcome outcome, out WorkOutcome final)
    {
        final = outcome;
        if (item.CancelRequested)
        {
            final = WorkOutcome.Cancelled(outcome.Node, item.Id);
        }
        else if (outcome.IsCrash || (outcome.Kind == OutcomeKind.Failed && item.Settings.RetryOn?.Contains(outcome.ErrorType) == true))
        {
            int attempts = ++item.FailedAttempts;
            if (attempts <= item.Settings.Retries && _closed is null)
            {
                RetryLocked(item);
                return false;
            }

            if (outcome.IsCrash)
            {
                string times = attempts == 1 ? "its only attempt" : $"each of its {attempts} attempts";
                final = WorkOutcome.Lost(outcome.Node, new WorkerCrashedException(
                    $"{outcome.CrashMessage} Job {item.Id} crashed its worker on {times} (1 attempt + {item.Settings.Retries} retries allowed).",
                    outcome.Node,
                    (outcome.LocalError as WorkerCrashedException)?.ExitCode));
            }
        }

        item.State = WorkState.Done;
        return true;
    }

    /// <summary>Puts a job to be retried back at the front of the queue, at once or after its retry delay.</summary>
    private void RetryLocked(WorkItem item)
    {
        if (item.Settings.RetryDelayMilliseconds <= 0)
        {
            item.State = WorkState.Queued;
            _queue.AddFirst(item);
            return;
        }

        item.State = WorkState.Retrying;
        _ = Task.Delay(TimeSpan.FromMilliseconds(item.Settings.RetryDelayMilliseconds)).ContinueWith(
            static (_, state) =>
            {
                var (scheduler, retried) = ((Scheduler, WorkItem))state!;
                scheduler.RetryNow(retried);
            },
            (this, item),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    /// <summary>A job's retry delay has passed: back to the queue, unless it was cancelled meanwhile or the scheduler closed.</summary>
    private void RetryNow(WorkItem item)
    {
        Exception? closed = null;
        lock (_gate)
        {
            if (item.State != WorkState.Retrying)
            {
                return;
            }

            if (_closed is null)
            {
                item.State = WorkState.Queued;
                _queue.AddFirst(item);
                DispatchLocked();
                return;
            }

            item.State = WorkState.Done;
            closed = _closed();
        }

        item.Finish(WorkOutcome.Lost("local", closed!));
    }

    /// <summary>A job came back unstarted: cancelled, answered "revoked" to whoever asked, or queued again. True when it ended.</summary>
    private bool ReturnOrRequeue(WorkItem item, string node, out WorkOutcome final)
    {
        final = default;
        if (item.CancelRequested)
        {
            item.State = WorkState.Done;
            final = WorkOutcome.Cancelled(node, item.Id);
            return true;
        }

        if (item.ReturnWhenRevoked)
        {
            item.State = WorkState.Done;
            final = new WorkOutcome(OutcomeKind.Revoked, node);
            return true;
        }

        item.State = WorkState.Queued;
        _queue.AddFirst(item);
        return false;
    }

    private static void RevokeLocked(WorkItem item)
    {
        if (item.Revoking || item.Executor is not { } executor)
        {
            return;
        }

        item.Revoking = true;
        executor.Revoking++;
        executor.Send(new Messages.JobSignal(MessageType.RevokeJob, item.Id));
    }

    /// <summary>
    /// Hands queued jobs out, in queue order: to a free slot if there is one (local workers before nodes, then the
    /// node with the most free capacity), else ahead to the least loaded executor that may hold one more. Stops at the
    /// first job no executor can take, so order is kept; then, if the queue is empty and a slot is free, takes back
    /// jobs held ahead elsewhere.
    /// </summary>
    private void DispatchLocked()
    {
        while (_queue.TryPeek(out WorkItem item))
        {
            JobExecutor? best = null;
            (int Busy, int Priority, long Load) bestRank = (int.MaxValue, int.MaxValue, long.MaxValue);
            foreach (JobExecutor executor in _executors)
            {
                int held = executor.InFlight.Count - executor.Revoking;
                if (!executor.Accepting || executor.InFlight.Count >= executor.MaxHeld(item))
                {
                    continue;
                }

                (int, int, long) rank = (held < executor.Capacity ? 0 : 1, executor.Priority, 1000L * held / Math.Max(1, executor.Capacity));
                if (rank.CompareTo(bestRank) < 0)
                {
                    best = executor;
                    bestRank = rank;
                }
            }

            if (best is null)
            {
                return;
            }

            _queue.RemoveFirst();
            SendLocked(best, item);
        }

        StealLocked();
    }

    /// <summary>Sends an initializer on the executor's channel unless it went there already; FIFO puts it before what follows.</summary>
    private static void SendInitializerLocked(JobExecutor executor, InitializerItem initializer)
    {
        if (!executor.Initialized.Add(initializer.Id))
        {
            return;
        }

        if (executor.DefinedFunctions.Add(initializer.Function.Id))
        {
            executor.Send(initializer.Function);
        }

        executor.Send(initializer);
    }

    private void SendLocked(JobExecutor executor, WorkItem item)
    {
        item.SendSequence = ++_sendSequence;
        item.State = WorkState.Sent;
        item.Executor = executor;
        item.StartedAt = 0;

        // Jobs not known to be short are acknowledged when they start, so a crash is blamed on the right one and a
        // time limit can be watched from here too; short ones are not, to keep their overhead minimal.
        item.AcknowledgeStart = item.MustAcknowledge || !item.Function.IsShort || item.Settings.TimeoutMilliseconds > 0;
        executor.InFlight.Add(item.Id, item);
        if (item.Initializer is { } initializer && !executor.ForwardsInitializer)
        {
            SendInitializerLocked(executor, initializer); // a node's client's: once per worker, ahead of the client's first job there
        }

        if (executor.DefinedFunctions.Add(item.Function.Id))
        {
            executor.Send(item.Function);
        }

        executor.Send(item);
        Telemetry.OnDispatched(this, item, executor);
    }

    /// <summary>
    /// With nothing queued and a slot free somewhere, asks for jobs held ahead on other executors, newest first (the
    /// least likely to have started), one per free slot. The job comes back (JobRevoked) and goes to the free slot; if
    /// it had already started, its executor ignores the request and it finishes there.
    /// </summary>
    private void StealLocked()
    {
        if (_queue.Count > 0)
        {
            return;
        }

        int idle = 0;
        int asked = 0;
        foreach (JobExecutor executor in _executors)
        {
            asked += executor.Revoking;
            if (executor.Accepting && executor.InFlight.Count < executor.Capacity)
            {
                idle += executor.Capacity - executor.InFlight.Count;
            }
        }

        while (asked < idle)
        {
            JobExecutor? victim = null;
            int most = 0;
            foreach (JobExecutor executor in _executors)
            {
                int ahead = executor.InFlight.Count - executor.Revoking - executor.Capacity;
                if (ahead > most)
                {
                    victim = executor;
                    most = ahead;
                }
            }

            if (victim is null)
            {
                return;
            }

            WorkItem? newest = null;
            foreach (WorkItem item in victim.InFlight.Values)
            {
                if (item.State == WorkState.Sent && !item.Revoking && (newest is null || item.SendSequence > newest.SendSequence))
                {
                    newest = item;
                }
            }

            if (newest is null)
            {
                return;
            }

            RevokeLocked(newest);
            asked++;
        }
    }
}
