using System.Net;
using Microsoft.Extensions.Logging;
using PPSharp.Protocol;
using PPSharp.Remote;

namespace PPSharp.Server;

/// <summary>
/// ppserver's settings once the command line, the environment and the config file have been merged and
/// checked (<see cref="SettingsLoader"/>): every value here is valid.
/// </summary>
internal sealed record ServerSettings
{
    /// <summary>ppft's port.</summary>
    public const int DefaultPort = NodeHostOptions.DefaultPort;

    /// <summary>The only protocol version this node speaks (<c>-n</c>).</summary>
    public const int SupportedProtocol = Messages.ProtocolVersion;

    /// <summary>Where the secret is read from when <c>-s</c> is not given.</summary>
    public const string SecretEnvironmentVariable = "PPSHARP_SECRET";

    public bool Debug { get; init; }

    public LogFormat LogFormat { get; init; } = LogFormat.Parse(LogFormat.Default);

    /// <summary>Announce the node by UDP broadcast (<c>-a</c>).</summary>
    public bool AutoDiscovery { get; init; }

    public bool Restart { get; init; }

    public int Protocol { get; init; } = SupportedProtocol;

    /// <summary>The config file read, as a full path; null when none was given.</summary>
    public string? ConfigFile { get; init; }

    public IPAddress Interface { get; init; } = IPAddress.Loopback;

    /// <summary>Where announcements go (<c>-b</c>); null means 255.255.255.255.</summary>
    public IPAddress? Broadcast { get; init; }

    public int Port { get; init; } = DefaultPort;

    /// <summary>Worker processes; always set (the processor count when not given).</summary>
    public int Workers { get; init; }

    /// <summary>The shared secret; null when none was given anywhere (the node then stays on loopback).</summary>
    public string? Secret { get; init; }

    /// <summary>Where <see cref="Secret"/> came from, for the log (never the secret itself).</summary>
    public string? SecretOrigin { get; init; }

    /// <summary>The salt the secret is stretched with (<c>--salt</c>); null for a fresh one at each start.</summary>
    public byte[]? Salt { get; init; }

    public TimeSpan? IdleTimeout { get; init; }

    public TimeSpan? SocketTimeout { get; init; }

    /// <summary>The assembly cache's quota in bytes (<c>-C</c>, given in MiB).</summary>
    public long CacheSizeLimit { get; init; } = NodeHostOptions.DefaultCacheSizeLimit;

    /// <summary>Largest message in bytes (<c>--max-message-size</c>, given in MiB).</summary>
    public int MaxMessageSize { get; init; } = JobServerOptions.DefaultMaxMessageSize;

    /// <summary>Most characters of a job's console output kept (<c>--max-output</c>).</summary>
    public int MaxJobOutputSize { get; init; } = JobServerOptions.DefaultMaxJobOutputSize;

    /// <summary>Most connections open at once (<c>--max-connections</c>).</summary>
    public int MaxConnections { get; init; } = NodeHostOptions.DefaultMaxConnections;

    /// <summary>The TLS certificate with its key (<c>--tls-cert</c>, <c>--tls-key</c>), loaded; null for no TLS.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; init; }

    /// <summary>Jobs after which each worker is replaced (<c>--max-jobs-per-worker</c>); 0 never.</summary>
    public int MaxJobsPerWorker { get; init; }

    /// <summary>Most jobs of one client held (<c>--max-queued-jobs</c>).</summary>
    public int MaxQueuedJobsPerClient { get; init; } = NodeHostOptions.DefaultMaxQueuedJobsPerClient;

    /// <summary>The pid file, as a full path; null for none.</summary>
    public string? PidFile { get; init; }

    /// <summary>The port of the /metrics and /healthz endpoint (<c>--metrics-port</c>); null for none.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Where the metrics endpoint listens: loopback unless told otherwise.</summary>
    public IPAddress MetricsInterface { get; init; } = IPAddress.Loopback;
    /// <summary>Where to write the address clients reach the node at (<c>-o</c>), as a full path; null for none.</summary>
    public string? AddressFile { get; init; }

    /// <summary>Things worth telling that did not stop the node (unknown config keys), logged once logging is up.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The node's options; the logger factory is the program's.</summary>
    public NodeHostOptions ToNodeHostOptions(ILoggerFactory loggerFactory)
    {
        var options = new NodeHostOptions
        {
            Interface = Interface,
            Port = Port,
            Workers = Workers,
            Secret = Secret,
            Salt = Salt,
            Restart = Restart,
            IdleTimeout = IdleTimeout,
            AutoDiscovery = AutoDiscovery,
            CacheSizeLimit = CacheSizeLimit,
            MaxMessageSize = MaxMessageSize,
            MaxJobOutputSize = MaxJobOutputSize,
            MaxConnections = MaxConnections,
            MaxQueuedJobsPerClient = MaxQueuedJobsPerClient,
            MaxJobsPerWorker = MaxJobsPerWorker,
            TlsCertificate = TlsCertificate,
            LoggerFactory = loggerFactory,
        };
        if (Broadcast is not null)
        {
            options.Broadcast = Broadcast;
        }

        if (SocketTimeout is TimeSpan socketTimeout)
        {
            options.SocketTimeout = socketTimeout; // otherwise NodeHostOptions' own default
        }

        return options;
    }
}
