namespace PPSharp;

/// <summary>
/// A job did not produce a result: its function threw (the remote exception is described by <see cref="RemoteType"/>,
/// <see cref="RemoteMessage"/> and <see cref="RemoteStackTrace"/>), or its result could not be sent back.
/// Thrown by <see cref="Job{T}.Result"/>, <see cref="Job.Wait()"/> and when awaiting a job.
/// </summary>
/// <remarks>
/// When the job's function threw, <see cref="Exception.InnerException"/> is that exception re-created in this process:
/// of its own type (with its message, its fields that can travel, its <see cref="Exception.Data"/> and its inner
/// exceptions), its stack trace being the one where the job ran, without PPSharp's and reflection's frames. So
/// <c>catch (JobFailedException e) when (e.InnerException is DivideByZeroException)</c> works for local workers and
/// remote nodes alike. A type that cannot be loaded or created here is replaced by a <see cref="RemoteException"/>
/// that keeps its name, message and trace.
/// </remarks>
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
        : this(message, remoteType, remoteMessage, remoteStackTrace, node, null)
    {
    }

    /// <summary>Creates the exception describing an exception thrown where the job ran, re-created here as <paramref name="innerException"/>.</summary>
    public JobFailedException(string message, string? remoteType, string? remoteMessage, string? remoteStackTrace, string? node, Exception? innerException)
        : base(message, innerException)
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
