namespace PPSharp.Scheduling;

/// <summary>Job count and job time per node ("local", "host:port"), as ppft's statistics table shows them.</summary>
internal sealed class NodeStatistics
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Count, long Ticks)> _rows = new(StringComparer.Ordinal);

    public void Record(string node, TimeSpan elapsed)
    {
        lock (_gate)
        {
            _rows.TryGetValue(node, out (int Count, long Ticks) row);
            _rows[node] = (row.Count + 1, row.Ticks + elapsed.Ticks);
        }
    }

    /// <summary>Makes sure a node has a row even before its first job (ppft lists every node).</summary>
    public void Ensure(string node)
    {
        lock (_gate)
        {
            _rows.TryAdd(node, (0, 0));
        }
    }

    public Dictionary<string, (int Count, TimeSpan Time)> Snapshot()
    {
        lock (_gate)
        {
            return _rows.ToDictionary(r => r.Key, r => (r.Value.Count, TimeSpan.FromTicks(r.Value.Ticks)), StringComparer.Ordinal);
        }
    }
}
