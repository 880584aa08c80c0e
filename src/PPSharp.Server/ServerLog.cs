using System.Net;
using Microsoft.Extensions.Logging;

namespace PPSharp.Server;

/// <summary>Every log message the ppserver program itself writes (the node's own come from PPSharp).</summary>
internal static partial class ServerLog
{
    /// <summary>Logging to standard error in ppft's format; standard output is left to the "listening on" line and the statistics.</summary>
    public static ILoggerFactory CreateFactory(ServerSettings settings) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(settings.Debug ? LogLevel.Debug : LogLevel.Warning) // ppft: WARNING, DEBUG with -d
        .AddConsole(console =>
        {
            console.FormatterName = LogFormatter.FormatterName;
            console.LogToStandardErrorThreshold = LogLevel.Trace;
        })
        .AddConsoleFormatter<LogFormatter, LogFormatterOptions>(options => options.Format = settings.LogFormat));

    [LoggerMessage(1, LogLevel.Warning, "No secret given (-s, {Variable} or [general] secret): listening on loopback only")]
    public static partial void NoSecret(ILogger logger, string variable);

    [LoggerMessage(2, LogLevel.Debug, "Secret taken from {Origin}")]
    public static partial void SecretFrom(ILogger logger, string origin);

    [LoggerMessage(4, LogLevel.Warning, "Config file: {Warning}")]
    public static partial void ConfigWarning(ILogger logger, string warning);

    [LoggerMessage(5, LogLevel.Debug, "Starting network node interface={Interface} port={Port} workers={Workers}")]
    public static partial void Starting(ILogger logger, IPAddress @interface, int port, int workers);

    [LoggerMessage(6, LogLevel.Debug, "ppserver will exit after {Seconds} s without a client connection")]
    public static partial void IdleTimeout(ILogger logger, double seconds);

    [LoggerMessage(7, LogLevel.Information, "Received {Signal}: stopping")]
    public static partial void Stopping(ILogger logger, string signal);

    [LoggerMessage(8, LogLevel.Information, "No client connected in the last {Seconds} s: exiting")]
    public static partial void IdleExit(ILogger logger, double seconds);

    [LoggerMessage(9, LogLevel.Error, "Cannot listen on {Interface}:{Port}: {Reason}")]
    public static partial void CannotListen(ILogger logger, IPAddress @interface, int port, string reason);

    [LoggerMessage(10, LogLevel.Critical, "The node failed")]
    public static partial void NodeFailed(ILogger logger, Exception exception);

    [LoggerMessage(11, LogLevel.Debug, "Wrote pid file {Path}")]
    public static partial void PidFileWritten(ILogger logger, string path);

    [LoggerMessage(12, LogLevel.Debug, "Wrote address {Address} to {Path}")]
    public static partial void AddressFileWritten(ILogger logger, string address, string path);
}
