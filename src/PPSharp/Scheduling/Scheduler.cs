using PPSharp.Internal;

namespace PPSharp.Scheduling;

/// <summary>
/// The queue of jobs and the places that run them. Jobs leave the queue first-in first-out for whichever executor
/// has the most free slots (local workers first on ties), as soon as one frees up: dynamic load balancing.
/// Queued jobs cost no thread; all state changes happen under one lock, and outcomes are delivered outside it.
/// </summary>
internal sealed class Scheduler
{
    private readonly Lock _gate = new();
    private readonly Deque<WorkItem> _queue = new();
    private readonly List<JobExecutor> _executors = [];
    private readonly NodeStatistics _statistics;
    private long _sendSequence;
    private Func<Exception>? _closed;

    public Scheduler(NodeStatistics statistics)
    {
        _statistics = statistics;
    }

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
            DispatchLocked();
        }
    }

    public void AddExecutor(JobExecutor executor)
    {
        lock (_gate)
        {
            executor.Accepting = true;
            executor.DefinedFunctions.Clear(); // a new channel knows no functions yet
            _executors.Add(executor);
            DispatchLocked();
        }
    }

    /// <summary>Stops giving jobs to <paramref name="executor"/>; it is told once its in-flight jobs are done.</summary>
    public void Retire(JobExecutor executor)
    {
        lock (_gate)
        {
            executor.Accepting = false;
            if (executor.InFlight.Count == 0)
            {
                executor.OnDrained();
            }
        }
    }

    /// <summary>A job's outcome arrived from <paramref name="executor"/>; returns false if that job was not in flight there.</summary>
    public bool Complete(JobExecutor executor, long jobId, in WorkOutcome outcome)
    {
        WorkItem? item;
        lock (_gate)
        {
            if (!executor.InFlight.Remove(jobId, out item))
            {
                return false;
            }

            Forget(executor, item);
            item.Function.Observe(outcome.Elapsed);
            executor.OnJobCompleted();
            _statistics.Record(outcome.Node, outcome.Elapsed);
            if (!executor.Accepting && executor.InFlight.Count == 0)
            {
                executor.OnDrained();
            }

            DispatchLocked();
        }

        // Delivered exactly once: the item left InFlight under the lock above, so no other path can complete it.
        item.Complete(outcome);
        return true;
    }

    /// <summary>
    /// The executor is gone (its process died or its channel broke). <paramref name="blame"/> picks, from the jobs it
    /// held in the order they were sent, the one it was running and the error for it; that job fails. Every other job
    /// never started there and goes back to the front of the queue, in order, to run elsewhere.
    /// </summary>
    public void RemoveExecutor(JobExecutor executor, Func<IReadOnlyList<WorkItem>, (WorkItem Item, Exception Error)?>? blame)
    {
        (WorkItem Item, Exception Error)? running = null;
        lock (_gate)
        {
            executor.Accepting = false;
            if (!_executors.Remove(executor))
            {
                return;
            }

            List<WorkItem> held = [.. executor.InFlight.Values.OrderBy(i => i.SendSequence)];
            executor.InFlight.Clear();
            executor.SlowInFlight = 0;
            running = blame?.Invoke(held);
            if (running is { } guilty)
            {
                held.Remove(guilty.Item);
            }

            if (_closed is null)
            {
                // Requeued, not failed: these jobs never started on the lost executor.
                for (int i = held.Count - 1; i >= 0; i--)
                {
                    _queue.AddFirst(held[i]);
                }

                DispatchLocked();
            }
            else
            {
                FailAll(held, _closed(), executor.Node);
            }
        }

        if (running is { } failed)
        {
            failed.Item.Complete(WorkOutcome.Lost(executor.Node, failed.Error));
        }
    }

    /// <summary>Takes out of the queue (without completing them) the jobs that match: a node drops a departed client's jobs.</summary>
    public void RemoveQueued(Func<WorkItem, bool> match)
    {
        lock (_gate)
        {
            foreach (WorkItem item in _queue.RemoveAll())
            {
                if (!match(item))
                {
                    _queue.AddLast(item);
                }
            }
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

            queued = _queue.RemoveAll();
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
            pending = [.. _queue.RemoveAll().Select(item => ("local", item))];
            foreach (JobExecutor executor in _executors)
            {
                executor.Accepting = false;
                pending.AddRange(executor.InFlight.Values.Select(item => (executor.Node, item)));
                executor.InFlight.Clear();
                executor.SlowInFlight = 0;
            }

            _executors.Clear();
        }

        Exception reason = error();
        foreach ((string node, WorkItem item) in pending)
        {
            item.Complete(WorkOutcome.Lost(node, reason));
        }
    }

    private static void FailAll(List<WorkItem> items, Exception error, string node)
    {
        foreach (WorkItem item in items)
        {
            item.Complete(WorkOutcome.Lost(node, error));
        }
    }

    private static void Forget(JobExecutor executor, WorkItem item)
    {
        if (item.SentAsSlow)
        {
            executor.SlowInFlight--;
        }
    }

    /// <summary>
    /// Hands queued jobs out, oldest first: to a free slot if there is one (local workers before nodes, then the node
    /// with the most free capacity), else ahead to the least loaded executor that accepts it. Stops at the first job no
    /// executor can take, so order is kept.
    /// </summary>
    private void DispatchLocked()
    {
        while (_queue.Count > 0)
        {
            WorkItem item = _queue.PeekFirst();
            JobExecutor? best = null;
            (int Busy, int Priority, int Taken) bestRank = (int.MaxValue, int.MaxValue, int.MaxValue);
            foreach (JobExecutor executor in _executors)
            {
                if (!executor.Accepting || !executor.CanTake(item))
                {
                    continue;
                }

                // A free slot first; then local before remote; then the least loaded relative to its capacity.
                int inFlight = executor.InFlight.Count;
                (int, int, int) rank = (inFlight < executor.Capacity ? 0 : 1, executor.Priority, (int)(1000L * inFlight / Math.Max(1, executor.Capacity)));
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
            item.SendSequence = ++_sendSequence;
            item.SentAsSlow = !item.Function.IsShort;
            if (item.SentAsSlow)
            {
                best.SlowInFlight++;
            }

            best.InFlight.Add(item.Id, item);
            if (best.DefinedFunctions.Add(item.Function.Id))
            {
                best.Send(item.Function);
            }

            best.Send(item);
        }
    }
}
