namespace PPSharp.Scheduling;

internal enum OutcomeKind
{
    /// <summary>The function returned; <see cref="WorkOutcome.Result"/> holds its serialized value.</summary>
    Succeeded,

    /// <summary>The function threw; the error fields describe the exception.</summary>
    Failed,

    /// <summary>The process running it died, or the job could not be run at all; <see cref="WorkOutcome.LocalError"/> says why.</summary>
    Lost,
}

/// <summary>How a job ended, as reported by the place that ran it.</summary>
internal readonly record struct WorkOutcome(
    OutcomeKind Kind,
    string Node,
    TimeSpan Elapsed = default,
    string? Output = null,
    byte[]? Result = null,
    string? ErrorType = null,
    string? ErrorMessage = null,
    string? ErrorStackTrace = null,
    Exception? LocalError = null,
    byte[]? ErrorDetail = null)
{
    public static WorkOutcome Lost(string node, Exception error) => new(OutcomeKind.Lost, node, LocalError: error);
}
