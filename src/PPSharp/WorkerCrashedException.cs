namespace PPSharp;

/// <summary>
/// The process running a job died before the job finished (<c>Environment.Exit</c>, <c>Environment.FailFast</c>, a stack
/// overflow, a kill). The message names the exit code or signal and the last lines the process wrote to its error stream.
/// The worker is replaced and the other jobs go on.
/// </summary>
public class WorkerCrashedException : JobFailedException
{
    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a process that ended with <paramref name="exitCode"/>.</summary>
    public WorkerCrashedException(string message, string? node, int? exitCode)
        : base(message, null, null, null, node)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process's exit code (on Unix, 128 + the signal number for a process killed by a signal), if known.</summary>
    public int? ExitCode { get; }
}
