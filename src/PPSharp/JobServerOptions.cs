using Microsoft.Extensions.Logging;

namespace PPSharp;

/// <summary>Settings of a <see cref="JobServer"/>. Every property has a default that suits one machine.</summary>
public sealed class JobServerOptions
{
    /// <summary>The default for <see cref="MaxMessageSize"/>: 2 GiB less one byte, the most one .NET array can hold.</summary>
    public const int DefaultMaxMessageSize = int.MaxValue;

    /// <summary>Number of local worker processes; null (the default) means <see cref="JobServer.DetectNcpus"/>, 0 means none.</summary>
    public int? Ncpus { get; set; }

    /// <summary>The default for <see cref="SocketTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSocketTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Remote <c>ppserver</c> nodes. "host" or "host:port" (port 60000 when omitted) names a node: it is connected in
    /// the background, retried every few seconds while unreachable, and used as soon as it answers. A pattern with
    /// <c>*</c> ("*", "*:35000", "192.168.1.*:35000") finds nodes started with <c>ppserver -a</c> by UDP broadcast on
    /// the pattern with each <c>*</c> replaced by 255. "dns:NAME:PORT" connects to every address NAME resolves to,
    /// resolved again every 30 seconds. "dir:PATH" connects to the node named in each file of that directory ("HOST:PORT",
    /// as <c>ppserver -o FILE</c> writes it; how <c>PPSharp.Slurm</c> finds its nodes), read again every second.
    /// Found nodes are used while they answer and dropped when they go away.
    /// </summary>
    public IList<string> PpServers { get; } = [];

    /// <summary>The shared secret the nodes were started with (<c>ppserver -s</c>); it never crosses the network.</summary>
    public string? Secret { get; set; }

    /// <summary>Start a fresh worker process for every job (ppft's <c>restart</c>), for code that leaks or keeps global state.</summary>
    public bool Restart { get; set; }

    /// <summary>How long a silent node is trusted before its jobs are rescheduled elsewhere (<see cref="DefaultSocketTimeout"/> if null). Nodes are pinged every few seconds, so a busy node is never taken for a dead one.</summary>
    public TimeSpan? SocketTimeout { get; set; }

    /// <summary>Where PPSharp logs (worker starts and crashes, callback failures). Null (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Largest single message (one job's arguments or one result) accepted on a channel, in bytes.</summary>
    public int MaxMessageSize { get; set; } = DefaultMaxMessageSize;
}
