using PPSharp.Scheduling;

namespace PPSharp;

public sealed partial class JobServer
{
    /// <summary>The server's scheduler, for diagnostics (the dashboard observes its queue and executors).</summary>
    internal Scheduler Scheduler => _scheduler;
}
