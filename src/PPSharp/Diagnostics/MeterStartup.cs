using System.Runtime.CompilerServices;

namespace PPSharp.Diagnostics;

/// <summary>Creates the <c>PPSharp</c> meter (<see cref="PPSharpMetrics"/>) on a pool thread, once per process.</summary>
/// <remarks>
/// The process's first <see cref="System.Diagnostics.Metrics.Meter"/> takes about 20 ms to create on this project's
/// machine (the runtime creates its metrics event source then). Created where it is first used, it sat on the path of
/// every <c>new JobServer</c> (the scheduler registers for the gauges) and of every worker's first job (its connection
/// counts bytes). Started here as a process begins, it overlaps the workers' start; whatever records first waits for
/// it if it is not done, so nothing is counted differently.
/// </remarks>
internal static class MeterStartup
{
    private static int s_begun;

    /// <summary>Has the meter created in the background, unless that has begun already.</summary>
    public static void Begin()
    {
        if (Interlocked.Exchange(ref s_begun, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static _ => RuntimeHelpers.RunClassConstructor(typeof(PPSharpMetrics).TypeHandle), null);
        }
    }
}
