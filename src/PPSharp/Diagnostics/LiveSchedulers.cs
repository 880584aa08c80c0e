using System.Runtime.CompilerServices;
using PPSharp.Scheduling;

namespace PPSharp.Diagnostics;

/// <summary>
/// Every live scheduler (a JobServer's, a node's), for the observable gauges of <see cref="PPSharpMetrics"/>; weak,
/// so a forgotten one is not kept.
/// </summary>
/// <remarks>
/// Kept apart from <see cref="PPSharpMetrics"/> so that registering a scheduler does not create the meter on the
/// caller's thread (<see cref="MeterStartup"/>). A listener sees no gauge before the meter exists, and a scheduler is
/// registered here before it begins the meter's creation, so none is missed.
/// </remarks>
internal static class LiveSchedulers
{
    private static readonly ConditionalWeakTable<Scheduler, object?> Table = [];

    /// <summary>Starts observing <paramref name="scheduler"/>, and has the meter created in the background if it is not yet.</summary>
    public static void Add(Scheduler scheduler)
    {
        Table.AddOrUpdate(scheduler, null);
        MeterStartup.Begin();
    }

    /// <summary>The live schedulers, for a gauge's reading.</summary>
    public static IEnumerable<Scheduler> All()
    {
        foreach (KeyValuePair<Scheduler, object?> entry in Table)
        {
            yield return entry.Key;
        }
    }
}
