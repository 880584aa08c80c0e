namespace PPSharp;

/// <summary>Where a job is in its life; see <see cref="Job.State"/>.</summary>
public enum JobState
{
    /// <summary>Waiting in the job server's queue.</summary>
    Queued,

    /// <summary>Sent to a worker or node, held there ahead of the job it is running.</summary>
    Sent,

    /// <summary>Running on a worker (known for jobs whose start is acknowledged: those not known to be short).</summary>
    Running,

    /// <summary>Finished with a result.</summary>
    Succeeded,

    /// <summary>Finished without a result: it threw, its worker crashed, it timed out, or the server was destroyed.</summary>
    Failed,

    /// <summary>Cancelled before it finished.</summary>
    Cancelled,
}
