namespace PPSharp;

/// <summary>
/// Stands in for an exception thrown (or returned) by a job whose type cannot be loaded or created in this process:
/// it keeps the exception's type name (<see cref="RemoteType"/>), its message and its stack trace where it ran.
/// </summary>
/// <remarks>
/// A job's exception is re-created in the caller with its own type whenever that type loads here (the usual case:
/// a BCL type, or a type of the application's own assemblies), so <c>catch (JobFailedException e) when
/// (e.InnerException is DivideByZeroException)</c> works. This type appears only for types that exist where the job
/// ran and not here (for example in code a source function compiled), or that cannot be created.
/// </remarks>
public sealed class RemoteException : Exception
{
    private readonly string? _remoteStackTrace;

    /// <summary>Creates the stand-in.</summary>
    public RemoteException()
        : this("System.Exception", string.Empty, null)
    {
    }

    /// <summary>Creates the stand-in with a message.</summary>
    /// <param name="message">The message.</param>
    public RemoteException(string message)
        : this("System.Exception", message, null)
    {
    }

    /// <summary>Creates the stand-in with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public RemoteException(string message, Exception? innerException)
        : this("System.Exception", message, null, innerException)
    {
    }

    /// <summary>Creates the stand-in for an exception of type <paramref name="remoteType"/>.</summary>
    /// <param name="remoteType">The name of the original exception's type.</param>
    /// <param name="message">The original message.</param>
    /// <param name="remoteStackTrace">The original stack trace, or null.</param>
    /// <param name="innerException">The original inner exception, re-created, or null.</param>
    public RemoteException(string remoteType, string message, string? remoteStackTrace, Exception? innerException = null)
        : base(message, innerException)
    {
        RemoteType = remoteType;
        _remoteStackTrace = remoteStackTrace;
    }

    /// <summary>The name of the original exception's type (for example <c>MyLib.QuotaException, MyLib</c>).</summary>
    public string RemoteType { get; }

    /// <inheritdoc />
    public override string? StackTrace => _remoteStackTrace ?? base.StackTrace;

    /// <inheritdoc />
    public override string ToString() => $"{RemoteType} (re-created as {nameof(RemoteException)}): {Message}{(_remoteStackTrace is null ? string.Empty : Environment.NewLine + _remoteStackTrace)}";
}
