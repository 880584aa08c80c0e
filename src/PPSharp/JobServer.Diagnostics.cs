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
        int queued = 0, sent = 0, running = 0;
        foreach (KeyValuePair<long, Job> entry in _unfinished) // lock-free, unlike .Values, which copies under every lock
        {
            switch (entry.Value.State)
            {
                case JobState.Queued:
                    queued++;
                    break;
                case JobState.Sent:
                    sent++;
                    break;
                case JobState.Running:
                    running++;
                    break;
            }
        }

        return new JobCounts(queued, sent, running);
    }
}

/// <summary>Unfinished jobs by state, as <see cref="JobServer.GetJobs"/> would list them.</summary>
/// <param name="Queued">Waiting in the queue.</param>
/// <param name="Sent">Sent to a worker or node and not yet said to have started.</param>
/// <param name="Running">Said to have started (jobs whose start is acknowledged).</param>
internal readonly record struct JobCounts(int Queued, int Sent, int Running);
