namespace PPSharp;

/// <summary>
/// The job was cancelled (<see cref="Job.Cancel"/>, or its <see cref="JobOptions.CancellationToken"/>) before it
/// finished: a queued job never ran; a running one was signalled through its token and, if it did not end within the
/// grace period, its worker process was stopped and replaced.
/// </summary>
public class JobCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public JobCancelledException()
        : base("The job was cancelled.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public JobCancelledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public JobCancelledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
