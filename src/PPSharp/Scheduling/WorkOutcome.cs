namespace PPSharp.Scheduling;

internal enum OutcomeKind
{
    /// <summary>The function returned; <see cref="WorkOutcome.Result"/> holds its serialized value.</summary>
    Succeeded,

    /// <summary>The function threw; the error fields describe the exception.</summary>
    Failed,

    /// <summary>The process running it died, or the job could not be run at all; <see cref="WorkOutcome.LocalError"/> says why.</summary>
    Lost,

    /// <summary>Taken back before it started, at the request of whoever submitted it (a node answers JobRevoked).</summary>
    Revoked,
}

/// <summary>How a job ended, as reported by the place that ran it.</summary>
internal readonly record struct WorkOutcome(
    OutcomeKind Kind,
    string Node,
    TimeSpan Elapsed = default,
    string? Output = null,
    ReadOnlyMemory<byte> Result = default,
    string? ErrorType = null,
    string? ErrorMessage = null,
    string? ErrorStackTrace = null,
    Exception? LocalError = null,
    byte[]? ErrorDetail = null)
{
    public static WorkOutcome Lost(string node, Exception error) => new(OutcomeKind.Lost, node, LocalError: error);

    public static WorkOutcome Cancelled(string node, long jobId) => Lost(node, new JobCancelledException($"Job {jobId} was cancelled."));

    /// <summary>Whether the job's worker process died while running it (locally, or on a node that says so).</summary>
    public bool IsCrash => Kind switch
    {
        OutcomeKind.Lost => LocalError is WorkerCrashedException,
        OutcomeKind.Failed => ErrorType == typeof(WorkerCrashedException).FullName,
        _ => false,
    };

    /// <summary>The crash's description, whichever side saw it.</summary>
    public string? CrashMessage => LocalError?.Message ?? ErrorMessage;
}
