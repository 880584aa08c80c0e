namespace PPSharp.Slurm;

/// <summary>A Slurm command failed, or could not be run (Slurm not installed, or not answering).</summary>
/// <remarks>The message names the command and carries what it wrote to standard error.</remarks>
public sealed class SlurmException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SlurmException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SlurmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public SlurmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
