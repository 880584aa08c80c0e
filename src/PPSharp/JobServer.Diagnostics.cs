using PPSharp.Scheduling;

namespace PPSharp;

public sealed partial class JobServer
{
    /// <summary>The server's scheduler, for diagnostics (the dashboard observes its queue and executors).</summary>
    internal Scheduler Scheduler => _scheduler;

    /// <summary>
    /// How many unfinished jobs are in each state: the counts of <see cref="GetJobs"/>' entries by
    /// <see cref="JobInfo.State"/> (the same reading of <see cref="Job.State"/>), without listing or sorting them.
    /// </summary>
    internal JobCounts CountJobs()
    {
        var counts = default(JobCounts);
        _unfinished.ForEach(ref counts, static (ref JobCounts c, Job job) =>
        {
            switch (job.State)
            {
                case JobState.Queued:
                    c = c with { Queued = c.Queued + 1 };
                    break;
                case JobState.Sent:
                    c = c with { Sent = c.Sent + 1 };
                    break;
                case JobState.Running:
                    c = c with { Running = c.Running + 1 };
                    break;
            }
        });
        return counts;
    }
}

/// <summary>Unfinished jobs by state, as <see cref="JobServer.GetJobs"/> would list them.</summary>
/// <param name="Queued">Waiting in the queue.</param>
/// <param name="Sent">Sent to a worker or node and not yet said to have started.</param>
/// <param name="Running">Said to have started (jobs whose start is acknowledged).</param>
internal readonly record struct JobCounts(int Queued, int Sent, int Running);
