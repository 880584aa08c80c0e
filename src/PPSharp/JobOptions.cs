namespace PPSharp;

/// <summary>
/// Settings of one job, given as the last argument of any <c>Submit</c> or <c>CreateTemplate</c>:
/// <c>server.Submit(f, x, options: new() { Timeout = TimeSpan.FromSeconds(10), Retries = 2 })</c>.
/// </summary>
public sealed record JobOptions
{
    /// <summary>
    /// The job's time limit, counted from the moment it starts running (not from submission); null takes the server's
    /// <see cref="JobServerOptions.DefaultJobTimeout"/>. At the limit the job's token is cancelled; a job that has not
    /// ended within <see cref="JobServerOptions.CancelGracePeriod"/> has its worker process replaced. Either way the job
    /// fails with <see cref="JobTimeoutException"/>.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Extra attempts after the job's worker process crashed while running it (0, the default: none). A job that crashes
    /// its worker on every attempt fails with <see cref="WorkerCrashedException"/> giving the number of attempts. Jobs on
    /// a node that is lost are rescheduled regardless (they may not have started), up to
    /// <c>Math.Max(Retries, 3)</c> times.
    /// </summary>
    public int Retries { get; init; }

    /// <summary>
    /// Exception types that also make the job try again, within <see cref="Retries"/>, when its function throws them
    /// (matched by exact type, as the worker names it); null (the default): only crashes are retried. A job that still
    /// throws after its last attempt fails with that exception, as usual.
    /// </summary>
    public IReadOnlyList<Type>? RetryOn { get; init; }

    /// <summary>How long to wait before each retry (default: none); the job waits out of the queue meanwhile.</summary>
    public TimeSpan RetryDelay { get; init; }

    /// <summary>Higher leaves the queue first; first-in first-out among jobs of equal priority. Default 0.</summary>
    public int Priority { get; init; }

    /// <summary>Cancels the job (as <see cref="Job.Cancel"/>) when it is cancelled.</summary>
    public CancellationToken CancellationToken { get; init; }
}
