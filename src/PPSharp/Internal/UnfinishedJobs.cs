namespace PPSharp.Internal;

/// <summary>
/// The jobs of a server that have not finished, for <see cref="JobServer.GetJobs"/>, waiting on a group and the
/// dashboard's counts: a doubly linked list through the jobs themselves, in the order they were submitted.
/// </summary>
/// <remarks>
/// Intrusive on purpose: a queued job should cost as little as possible (a million may wait), and two references in
/// the job are 16 bytes where a concurrent dictionary's entry was some 56. Adding and removing take a short lock,
/// once per job each, as the scheduler's own lock is taken; reading takes it for one pass over the list.
/// </remarks>
internal sealed class UnfinishedJobs
{
    private readonly Lock _gate = new();
    private Job? _first;
    private Job? _last;

    public void Add(Job job)
    {
        lock (_gate)
        {
            if (IsIn(job))
            {
                return;
            }

            job.PreviousUnfinished = _last;
            job.NextUnfinished = null;
            if (_last is null)
            {
                _first = job;
            }
            else
            {
                _last.NextUnfinished = job;
            }

            _last = job;
        }
    }

    /// <summary>Takes the job out; nothing if it is not in (finished already).</summary>
    public void Remove(Job job)
    {
        lock (_gate)
        {
            if (!IsIn(job))
            {
                return;
            }

            if (job.PreviousUnfinished is { } previous)
            {
                previous.NextUnfinished = job.NextUnfinished;
            }
            else
            {
                _first = job.NextUnfinished;
            }

            if (job.NextUnfinished is { } next)
            {
                next.PreviousUnfinished = job.PreviousUnfinished;
            }
            else
            {
                _last = job.PreviousUnfinished;
            }

            job.PreviousUnfinished = null;
            job.NextUnfinished = null;
        }
    }

    /// <summary>Whether the job is in the list (under the lock): only the first has no predecessor.</summary>
    private bool IsIn(Job job) => job.PreviousUnfinished is not null || ReferenceEquals(_first, job);

    /// <summary>The unfinished jobs (of <paramref name="group"/>, or all when null), oldest first.</summary>
    public Job[] Snapshot(string? group = null)
    {
        var jobs = new List<Job>();
        lock (_gate)
        {
            for (Job? job = _first; job is not null; job = job.NextUnfinished)
            {
                if (group is null || job.Group == group)
                {
                    jobs.Add(job);
                }
            }
        }

        // Submitted in this order, numbered just before: two threads submitting at once may be one place apart.
        jobs.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        return [.. jobs];
    }

    /// <summary>Calls <paramref name="visit"/> on each unfinished job, under the lock: it must be quick and must not block.</summary>
    public void ForEach<TState>(ref TState state, VisitJob<TState> visit)
    {
        lock (_gate)
        {
            for (Job? job = _first; job is not null; job = job.NextUnfinished)
            {
                visit(ref state, job);
            }
        }
    }

    public delegate void VisitJob<TState>(ref TState state, Job job);
}
