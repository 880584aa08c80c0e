namespace PPSharp;

/// <summary>A job has finished, successfully or not; see <see cref="JobServer.JobFinished"/>.</summary>
public sealed class JobFinishedEventArgs : EventArgs
{
    internal JobFinishedEventArgs(Job job, Exception? exception)
    {
        Job = job;
        Exception = exception;
    }

    /// <summary>The job. Its <see cref="PPSharp.Job.IsCompleted"/> is still false while handlers run (a job completes after them); read the outcome from <see cref="Exception"/>.</summary>
    public Job Job { get; }

    /// <summary>Why the job failed (a <see cref="JobFailedException"/> or <see cref="DestroyedServerException"/>), or null if it succeeded.</summary>
    public Exception? Exception { get; }

    /// <summary>True if the job produced its result.</summary>
    public bool Succeeded => Exception is null;
}
