using Microsoft.Extensions.Logging;

namespace PPSharp.Slurm;

/// <summary>Every log message of <see cref="SlurmCluster"/>, source-generated.</summary>
internal static partial class SlurmLog
{
    [LoggerMessage(1, LogLevel.Information, "Submitted Slurm job {JobId} ({JobName})")]
    public static partial void Submitted(ILogger logger, string jobId, string jobName);

    [LoggerMessage(2, LogLevel.Information, "Cancelled Slurm jobs {JobIds} ({JobName})")]
    public static partial void Cancelled(ILogger logger, string jobIds, string jobName);

    [LoggerMessage(3, LogLevel.Information, "No Slurm job of {JobName} is left")]
    public static partial void Stopped(ILogger logger, string jobName);

    [LoggerMessage(4, LogLevel.Warning, "Stopping {JobName}: {Reason}")]
    public static partial void StopFailed(ILogger logger, string jobName, string reason);
}
