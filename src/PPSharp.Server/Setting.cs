namespace PPSharp.Server;

/// <summary>
/// One ppserver setting: its command-line names, where it lives in a ppft config file, and its help line.
/// The command line, the usage text and the config file reader all work from <see cref="All"/>, so an option
/// cannot be accepted somewhere and forgotten elsewhere.
/// </summary>
internal sealed class Setting
{
    private Setting(char? shortName, string longName, string? argumentName, string? section, string? key, string help)
    {
        ShortName = shortName is null ? null : "-" + shortName;
        LongName = "--" + longName;
        ArgumentName = argumentName;
        Section = section;
        Key = key;
        Help = help;
    }

    /// <summary>ppft's one-letter option, with its dash (<c>-p</c>); null for PPSharp's own long-only options.</summary>
    public string? ShortName { get; }

    /// <summary>The names other than <see cref="LongName"/>: the one-letter option, if any.</summary>
    public string[] Aliases => ShortName is null ? [] : [ShortName];

    /// <summary>The long form, with its dashes (<c>--port</c>).</summary>
    public string LongName { get; }

    /// <summary>The name of the option's value in the usage text; null for a flag that takes none.</summary>
    public string? ArgumentName { get; }

    /// <summary>The config file section (<c>general</c> or <c>network</c>); null when the file cannot set it.</summary>
    public string? Section { get; }

    /// <summary>The key inside <see cref="Section"/>, as ppft spells it.</summary>
    public string? Key { get; }

    /// <summary>The help line.</summary>
    public string Help { get; }

    public bool IsFlag => ArgumentName is null;

    /// <summary>How error messages name the option: <c>-p/--port</c>.</summary>
    public string OptionNames => ShortName is null ? LongName : $"{ShortName}/{LongName}";

    /// <summary>How error messages name the config key: <c>[network] port</c>.</summary>
    public string IniName => $"[{Section}] {Key}";

    // ppft's options, in ppft's order (-h, the help option, is System.CommandLine's own).
    public static readonly Setting Debug = new('d', "debug", null, "general", "debug", "set log level to debug");
    public static readonly Setting LogFormat = new('f', "log-format", "format", null, null,
        "log format, Python logging style (default \"" + Server.LogFormat.Default + "\")");
    public static readonly Setting AutoDiscovery = new('a', "autodiscovery", null, "network", "autodiscovery",
        "announce this node by UDP broadcast, for clients with * patterns");
    public static readonly Setting Restart = new('r', "restart", null, "general", "restart",
        "restart worker process after each task completion");
    public static readonly Setting Proto = new('n', "proto", "proto", "general", "proto",
        "protocol version of the job messages (this node speaks " + ServerSettings.SupportedProtocol + ")");
    public static readonly Setting Config = new('c', "config", "path", null, null, "path to config file (INI, ppft's layout)");
    public static readonly Setting Interface = new('i', "interface", "interface", "network", "interface",
        "interface to listen on: an IP address or a host name (default 0.0.0.0 with a secret, 127.0.0.1 without)");
    public static readonly Setting Broadcast = new('b', "broadcast", "broadcast", "network", "broadcast",
        "broadcast address for auto-discovery service (default 255.255.255.255)");
    public static readonly Setting Port = new('p', "port", "port", "network", "port",
        "port to listen on (default " + ServerSettings.DefaultPort + "; 0 picks a free port)");
    public static readonly Setting Workers = new('w', "workers", "nworkers", "general", "workers",
        "number of workers to start (default: the number of processors)");
    public static readonly Setting Secret = new('s', "secret", "secret", "general", "secret",
        "secret for authentication (else $" + ServerSettings.SecretEnvironmentVariable + ", else the config file)");
    public static readonly Setting Salt = new(null, "salt", "hex", "general", "salt",
        "the salt the secret is stretched with, " + (Remote.SecretKey.SaltSize * 2) + " hex digits; not secret. Give every node of a cluster the same one and a client derives its key once, not once per node (default: fresh at each start)");
    public static readonly Setting Timeout = new('t', "timeout", "seconds", "network", "timeout",
        "exit when no client has been connected for this many seconds");
    public static readonly Setting SocketTimeout = new('k', "socket-timeout", "seconds", "network", "socket_timeout",
        "socket timeout in seconds: how long a silent client is trusted");
    public static readonly Setting PidFile = new('P', "pid-file", "pid_file", "general", "pid_file",
        "file to write the process id to (removed at exit)");
    public static readonly Setting AddressFile = new('o', "address-file", "address_file", "general", "address_file",
        "file to write HOST:PORT to once listening (removed at exit), for a scheduler that starts nodes on ports of their choosing (-p 0)");

    // PPSharp's own: Prometheus metrics and a health probe over HTTP, for operators.
    public static readonly Setting MetricsPort = new(null, "metrics-port", "port", "network", "metrics_port",
        "serve Prometheus metrics at /metrics and a health probe at /healthz on this port (0 picks a free port)");
    public static readonly Setting MetricsInterface = new(null, "metrics-interface", "interface", "network", "metrics_interface",
        "interface the metrics endpoint listens on (default 127.0.0.1)");
    // PPSharp's own.
    public static readonly Setting CacheSize = new('C', "cache-size", "MiB", "general", "cache_size",
        "most MiB of uploaded assemblies to keep cached; the least recently used go first (default " + (Remote.NodeHostOptions.DefaultCacheSizeLimit >> 20) + ")");

    // PPSharp's own limits: what one client (or a flood of connections) can cost this node.
    public static readonly Setting MaxMessageSize = new(null, "max-message-size", "MiB", "general", "max_message_size",
        "largest message (a job's arguments, a result, an upload) in MiB (default " + (JobServerOptions.DefaultMaxMessageSize >> 20) + ")");
    public static readonly Setting MaxOutput = new(null, "max-output", "characters", "general", "max_output",
        "most characters of one job's console output kept, head and tail (default " + JobServerOptions.DefaultMaxJobOutputSize + ")");
    public static readonly Setting MaxConnections = new(null, "max-connections", "count", "network", "max_connections",
        "most connections open at once; more are closed at once (default " + Remote.NodeHostOptions.DefaultMaxConnections + ")");
    public static readonly Setting TlsCert = new(null, "tls-cert", "path", "network", "tls_cert",
        "serve every connection over TLS with this certificate (PEM, with --tls-key or its key inside; or PKCS#12 .pfx/.p12); clients need JobServerOptions.Tls");
    public static readonly Setting TlsKey = new(null, "tls-key", "path", "network", "tls_key",
        "the PEM private key of --tls-cert, when it is in a file of its own");
    public static readonly Setting MaxJobsPerWorker = new(null, "max-jobs-per-worker", "count", "general", "max_jobs_per_worker",
        "replace each worker process after this many jobs (0: never, the default; -r is 1)");
    public static readonly Setting MaxQueuedJobs = new(null, "max-queued-jobs", "count", "general", "max_queued_jobs",
        "most jobs of one client held here; at the limit the node stops reading from it until some finish (default " + Remote.NodeHostOptions.DefaultMaxQueuedJobsPerClient + ")");

    public static IReadOnlyList<Setting> All { get; } =
    [
        Debug, LogFormat, AutoDiscovery, Restart, Proto, Config, Interface, Broadcast, Port, Workers, Secret, Salt, Timeout,
        SocketTimeout, PidFile, MetricsPort, MetricsInterface, CacheSize, AddressFile, MaxMessageSize, MaxOutput,
        MaxConnections, MaxQueuedJobs, MaxJobsPerWorker, TlsCert, TlsKey,
    ];
}
