using PPSharp.Internal;

namespace PPSharp.Scheduling;

/// <summary>
/// The jobs waiting for a place to run: highest priority first, first-in first-out among equals, and requeued jobs
/// back at the front of their priority. Not thread-safe: the scheduler's lock guards it.
/// </summary>
/// <remarks>
/// Almost every job has the default priority, so there is usually one level; levels are kept in a small sorted list.
/// A cancelled job is taken out by marking (<see cref="WorkState.Done"/>) and skipped when it reaches the front, so
/// cancelling is O(1) however long the queue.
/// </remarks>
internal sealed class JobQueue
{
    private readonly List<(int Priority, Deque<WorkItem> Items)> _levels = [];

    /// <summary>Jobs queued and not cancelled.</summary>
    public int Count { get; private set; }

    public void AddLast(WorkItem item)
    {
        Level(item.Settings.Priority).AddLast(item);
        Count++;
    }

    public void AddFirst(WorkItem item)
    {
        Level(item.Settings.Priority).AddFirst(item);
        Count++;
    }

    /// <summary>The next job to leave, without taking it; false when none is queued.</summary>
    public bool TryPeek(out WorkItem item)
    {
        foreach ((int _, Deque<WorkItem> items) in _levels)
        {
            while (items.Count > 0)
            {
                item = items.PeekFirst();
                if (item.State == WorkState.Queued)
                {
                    return true;
                }

                items.RemoveFirst(); // Cancelled while queued.
            }
        }

        item = null!;
        return false;
    }

    /// <summary>Takes the job <see cref="TryPeek"/> returned.</summary>
    public WorkItem RemoveFirst()
    {
        if (!TryPeek(out WorkItem item))
        {
            throw new InvalidOperationException("The queue is empty.");
        }

        foreach ((int _, Deque<WorkItem> items) in _levels)
        {
            if (items.Count > 0)
            {
                items.RemoveFirst();
                break;
            }
        }

        Count--;
        return item;
    }

    /// <summary>A queued job leaves without running; the caller has marked it done.</summary>
    public void Forget() => Count--;

    /// <summary>Every queued job, in the order they would have left.</summary>
    public List<WorkItem> RemoveAll()
    {
        var all = new List<WorkItem>(Count);
        while (TryPeek(out _))
        {
            all.Add(RemoveFirst());
        }

        _levels.Clear();
        return all;
    }

    private Deque<WorkItem> Level(int priority)
    {
        int i = 0;
        while (i < _levels.Count && _levels[i].Priority > priority)
        {
            i++;
        }

        if (i < _levels.Count && _levels[i].Priority == priority)
        {
            return _levels[i].Items;
        }

        var items = new Deque<WorkItem>();
        _levels.Insert(i, (priority, items));
        return items;
    }
}
