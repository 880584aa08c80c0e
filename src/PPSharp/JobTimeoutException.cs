namespace PPSharp;

/// <summary>
/// The job ran past its time limit (<see cref="JobOptions.Timeout"/> or <see cref="JobServerOptions.DefaultJobTimeout"/>),
/// counted from the moment it started. Its token was cancelled at the limit; if it had not ended within the grace
/// period, its worker process was stopped and replaced.
/// </summary>
public class JobTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public JobTimeoutException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public JobTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public JobTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a job that ran past <paramref name="limit"/>.</summary>
    public JobTimeoutException(long jobId, TimeSpan limit, string? node)
        : base($"Job {jobId} ran past its time limit of {Describe(limit)}{(node is null ? string.Empty : $" on {node}")} and was stopped.")
    {
        Limit = limit;
    }

    /// <summary>The time limit the job ran past, if known.</summary>
    public TimeSpan? Limit { get; }

    private static string Describe(TimeSpan limit) =>
        limit.TotalSeconds >= 1 ? $"{limit.TotalSeconds:0.###} s" : $"{limit.TotalMilliseconds:0.###} ms";
}
