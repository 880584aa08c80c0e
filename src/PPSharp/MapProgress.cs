namespace PPSharp;

/// <summary>How far a map has come, as reported to an <see cref="IProgress{T}"/> after each finished chunk.</summary>
/// <param name="Done">Items finished (succeeded or failed).</param>
/// <param name="Total">Items in all, when the sequence's count is known (a collection); null otherwise.</param>
/// <param name="Failed">Items that failed.</param>
/// <param name="Elapsed">Time since the map started.</param>
public sealed record MapProgress(int Done, int? Total, int Failed, TimeSpan Elapsed)
{
    /// <summary>Items finished per second so far.</summary>
    public double Rate => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>The time left at the rate so far, when the total is known and something has finished.</summary>
    public TimeSpan? Remaining => Total is { } total && Done > 0 ? TimeSpan.FromSeconds((total - Done) / Rate) : null;
}
