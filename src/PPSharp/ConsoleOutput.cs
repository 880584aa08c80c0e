namespace PPSharp;

/// <summary>When a job's console output is written to this process's console; see <see cref="JobServerOptions.ConsoleOutput"/>.</summary>
public enum ConsoleOutput
{
    /// <summary>
    /// When the job completes, whether or not its result is ever read (the default): what the job wrote to standard
    /// output goes to <see cref="Console.Out"/> and what it wrote to standard error to <see cref="Console.Error"/>, each
    /// job's output in one piece, in completion order.
    /// </summary>
    OnCompletion,

    /// <summary>When the job's result is first read or the job first waited for, as ppft does; never for a job nobody reads.</summary>
    WhenRead,

    /// <summary>Never: the output is kept only in <see cref="Job.Output"/>.</summary>
    None,
}
