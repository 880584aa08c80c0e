namespace PPSharp;

/// <summary>
/// The job server was destroyed (disposed): thrown by <c>Submit</c> afterwards, and by every job that was queued or
/// running at that moment.
/// </summary>
public class DestroyedServerException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public DestroyedServerException()
        : base("The job server has been destroyed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public DestroyedServerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DestroyedServerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
