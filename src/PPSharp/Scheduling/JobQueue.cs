using PPSharp.Internal;

namespace PPSharp.Scheduling;

/// <summary>
/// The jobs waiting for a place to run: highest priority first; within a priority, the owners' jobs in turn
/// (round-robin), and each owner's jobs first-in first-out, with requeued jobs back at the front. Not thread-safe: the
/// scheduler's lock guards it.
/// </summary>
/// <remarks>
/// A client's own queue has one owner, so it is plain first-in first-out. On a node each connected client is an owner
/// (<see cref="WorkItem.Owner"/>), so a client with a backlog of a hundred thousand jobs never holds back another
/// client's: their jobs leave the queue alternately. Almost every job has the default priority, so there is usually
/// one level. A cancelled job is taken out by marking (<see cref="WorkState.Done"/>) and skipped when it reaches the
/// front, so cancelling is O(1) however long the queue. An owner that holds back (<see cref="IJobOwner.HoldsBack"/>:
/// a node's client that does not read its results) keeps its jobs but loses its turns until it reads again.
/// </remarks>
internal sealed class JobQueue
{
    private static readonly object NoOwner = new();

    private readonly List<Level> _levels = [];

    /// <summary>Jobs queued and not cancelled.</summary>
    public int Count { get; private set; }

    public void AddLast(WorkItem item)
    {
        LevelOf(item.Settings.Priority).Add(item, atFront: false);
        Count++;
    }

    public void AddFirst(WorkItem item)
    {
        LevelOf(item.Settings.Priority).Add(item, atFront: true);
        Count++;
    }

    /// <summary>The next job to leave, without taking it; false when none is queued.</summary>
    public bool TryPeek(out WorkItem item)
    {
        foreach (Level level in _levels)
        {
            if (level.TryPeek(out item))
            {
                return true;
            }
        }

        item = null!;
        return false;
    }

    /// <summary>Takes the job <see cref="TryPeek"/> returned.</summary>
    public WorkItem RemoveFirst()
    {
        foreach (Level level in _levels)
        {
            if (level.TryPeek(out _))
            {
                Count--;
                return level.RemoveFirst();
            }
        }

        throw new InvalidOperationException("The queue is empty.");
    }

    /// <summary>A queued job leaves without running; the caller has marked it done.</summary>
    public void Forget() => Count--;

    /// <summary>Every queued job, held back or not: by priority, then by owner, each owner's in the order they would have left.</summary>
    public List<WorkItem> RemoveAll()
    {
        var all = new List<WorkItem>(Count);
        foreach (Level level in _levels)
        {
            level.Drain(all);
        }

        _levels.Clear();
        Count = 0;
        return all;
    }

    private Level LevelOf(int priority)
    {
        int i = 0;
        while (i < _levels.Count && _levels[i].Priority > priority)
        {
            i++;
        }

        if (i < _levels.Count && _levels[i].Priority == priority)
        {
            return _levels[i];
        }

        var level = new Level(priority);
        _levels.Insert(i, level);
        return level;
    }

    /// <summary>One priority: a queue per owner, and the owners with jobs in the order they take turns.</summary>
    private sealed class Level(int priority)
    {
        private readonly Dictionary<object, Deque<WorkItem>> _byOwner = [];
        private readonly LinkedList<object> _turns = new();
        private LinkedListNode<object>? _peeked;

        public int Priority { get; } = priority;

        public void Add(WorkItem item, bool atFront)
        {
            object owner = item.Owner ?? NoOwner;
            if (!_byOwner.TryGetValue(owner, out Deque<WorkItem>? items))
            {
                items = new Deque<WorkItem>();
                _byOwner[owner] = items;
            }

            if (items.Count == 0)
            {
                if (atFront)
                {
                    _turns.AddFirst(owner);
                }
                else
                {
                    _turns.AddLast(owner);
                }
            }

            if (atFront)
            {
                items.AddFirst(item);
            }
            else
            {
                items.AddLast(item);
            }
        }

        public bool TryPeek(out WorkItem item)
        {
            LinkedListNode<object>? turn = _turns.First;
            while (turn is not null)
            {
                LinkedListNode<object>? next = turn.Next;
                Deque<WorkItem> items = _byOwner[turn.Value];
                if (turn.Value is IJobOwner { HoldsBack: true })
                {
                    turn = next; // Its turn waits; the others go on.
                    continue;
                }

                while (items.Count > 0)
                {
                    item = items.PeekFirst();
                    if (item.State == WorkState.Queued)
                    {
                        _peeked = turn;
                        return true;
                    }

                    items.RemoveFirst(); // Cancelled while queued.
                }

                _turns.Remove(turn);
                _byOwner.Remove(turn.Value);
                turn = next;
            }

            item = null!;
            return false;
        }

        /// <summary>Every queued job of every owner, held back or not, owners in turn order.</summary>
        public void Drain(List<WorkItem> into)
        {
            foreach (object owner in _turns)
            {
                Deque<WorkItem> items = _byOwner[owner];
                while (items.Count > 0)
                {
                    WorkItem item = items.RemoveFirst();
                    if (item.State == WorkState.Queued)
                    {
                        into.Add(item);
                    }
                }
            }

            _turns.Clear();
            _byOwner.Clear();
        }

        /// <summary>Takes the job <see cref="TryPeek"/> returned; its owner's turn passes to the next.</summary>
        public WorkItem RemoveFirst()
        {
            LinkedListNode<object> turn = _peeked ?? throw new InvalidOperationException("TryPeek first.");
            _peeked = null;
            Deque<WorkItem> items = _byOwner[turn.Value];
            WorkItem item = items.RemoveFirst();
            _turns.Remove(turn);
            if (items.Count > 0)
            {
                _turns.AddLast(turn);
            }
            else
            {
                _byOwner.Remove(turn.Value);
            }

            return item;
        }
    }
}

/// <summary>An owner of queued jobs that can ask for its jobs to wait (see <see cref="JobQueue"/>).</summary>
internal interface IJobOwner
{
    /// <summary>True while none of its queued jobs should start; read under the scheduler's lock.</summary>
    bool HoldsBack { get; }
}
