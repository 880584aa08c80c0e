namespace PPSharp.Internal;

/// <summary>
/// Counts unfinished jobs per group and in all, so that <c>Wait</c> waits for exactly the jobs submitted so far,
/// without keeping a list of them.
/// </summary>
internal sealed class GroupTracker
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Pending> _groups = new(StringComparer.Ordinal);
    private readonly Pending _all = new();

    public void Add(string group)
    {
        lock (_gate)
        {
            _all.Count++;
            if (!_groups.TryGetValue(group, out Pending? pending))
            {
                _groups[group] = pending = new Pending();
            }

            pending.Count++;
        }
    }

    public void Done(string group)
    {
        TaskCompletionSource? groupDrained = null;
        TaskCompletionSource? allDrained = null;
        lock (_gate)
        {
            if (_groups.TryGetValue(group, out Pending? pending) && --pending.Count == 0)
            {
                _groups.Remove(group);
                groupDrained = pending.Drained;
            }

            if (--_all.Count == 0)
            {
                allDrained = _all.Drained;
                _all.Drained = null;
            }
        }

        groupDrained?.TrySetResult();
        allDrained?.TrySetResult();
    }

    public bool HasPending(string? group)
    {
        lock (_gate)
        {
            return group is null ? _all.Count > 0 : _groups.ContainsKey(group);
        }
    }

    /// <summary>Completes when every job of <paramref name="group"/> (all jobs if null) submitted so far has finished.</summary>
    public Task WhenDrained(string? group)
    {
        lock (_gate)
        {
            Pending? pending = group is null ? _all : _groups.GetValueOrDefault(group);
            if (pending is null || pending.Count == 0)
            {
                return Task.CompletedTask;
            }

            pending.Drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return pending.Drained.Task;
        }
    }

    private sealed class Pending
    {
        public int Count { get; set; }

        public TaskCompletionSource? Drained { get; set; }
    }
}
