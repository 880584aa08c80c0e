namespace PPSharp;

/// <summary>
/// A job did not produce a result: its function threw (the remote exception is described by <see cref="RemoteType"/>,
/// <see cref="RemoteMessage"/> and <see cref="RemoteStackTrace"/>), or its result could not be sent back.
/// Thrown by <see cref="Job{T}.Result"/>, <see cref="Job.Wait()"/> and when awaiting a job.
/// </summary>
public class JobFailedException : Exception
{
    /// <summary>Creates the exception with a message only.</summary>
    public JobFailedException()
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public JobFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the local exception that caused it.</summary>
    public JobFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception describing an exception thrown where the job ran.</summary>
    public JobFailedException(string message, string? remoteType, string? remoteMessage, string? remoteStackTrace, string? node)
        : base(message)
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
        Node = node;
    }

    /// <summary>Full name of the exception type thrown by the job (for example <c>System.DivideByZeroException</c>), or null if it did not throw.</summary>
    public string? RemoteType { get; }

    /// <summary>The message of the exception thrown by the job.</summary>
    public string? RemoteMessage { get; }

    /// <summary>The stack trace of the exception where the job ran.</summary>
    public string? RemoteStackTrace { get; }

    /// <summary>Where the job ran: "local" or "host:port".</summary>
    public string? Node { get; }

    /// <inheritdoc />
    public override string? StackTrace =>
        RemoteStackTrace is null ? base.StackTrace : $"{RemoteStackTrace}{Environment.NewLine}   --- end of the job's stack trace on {Node} ---{Environment.NewLine}{base.StackTrace}";
}
