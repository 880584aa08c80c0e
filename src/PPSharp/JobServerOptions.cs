using Microsoft.Extensions.Logging;

namespace PPSharp;

/// <summary>Settings of a <see cref="JobServer"/>. Every property has a default that suits one machine.</summary>
public sealed class JobServerOptions
{
    /// <summary>The default for <see cref="MaxMessageSize"/>: 256 MiB.</summary>
    public const int DefaultMaxMessageSize = 256 << 20;

    /// <summary>The default for <see cref="MaxJobOutputSize"/>: 1 MiB characters (1,048,576).</summary>
    public const int DefaultMaxJobOutputSize = 1 << 20;

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

    /// <summary>
    /// Where PPSharp logs (worker starts and crashes, nodes that cannot be reached or refuse this client, callback
    /// failures). Null (the default) writes warnings and errors to standard error, one line each ("PPSharp warning:
    /// ..."), at most 3 lines of one kind per 10 seconds, as Python's logging does when a program configured nothing;
    /// a factory given here takes over entirely.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The default for <see cref="HeartbeatTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a local worker or a node may stay silent before it is taken for frozen (stopped, hung, cut off) and its
    /// jobs are moved elsewhere: the running one fails (or is retried), those held ahead are rescheduled. Workers and
    /// nodes are pinged every quarter of it and answer even while busy, so a long job is never taken for a frozen peer.
    /// Default <see cref="DefaultHeartbeatTimeout"/>; a node is also dropped after <see cref="SocketTimeout"/> if that is shorter.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = DefaultHeartbeatTimeout;

    /// <summary>The default for <see cref="CancelGracePeriod"/>: 2 seconds.</summary>
    public static readonly TimeSpan DefaultCancelGracePeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The time limit of jobs submitted without <see cref="JobOptions.Timeout"/>, counted from each job's start; null
    /// (the default) means none.
    /// </summary>
    public TimeSpan? DefaultJobTimeout { get; set; }

    /// <summary>
    /// How long a cancelled job, or one past its time limit, may take to end by itself (through its
    /// <see cref="CancellationToken"/>) before its worker process is stopped and replaced. Default
    /// <see cref="DefaultCancelGracePeriod"/>.
    /// </summary>
    public TimeSpan CancelGracePeriod { get; set; } = DefaultCancelGracePeriod;

    /// <summary>
    /// Replace each local worker process with a fresh one after it has run this many jobs (for code that leaks or keeps
    /// global state); 0 (the default) never. <see cref="Restart"/> is the same as 1.
    /// </summary>
    public int MaxJobsPerWorker { get; set; }

    /// <summary>
    /// A function run once in each new local worker process before its first job (multiprocessing's
    /// <c>initializer</c>): warm a cache, open a file, seed state. Its failure is logged; the worker goes on. Like a
    /// job's function it may be a lambda with captured values. A node's workers serve every client, so a node runs
    /// it on each of its workers before this client's first job there (and again on a worker it replaced).
    /// </summary>
    public Action? WorkerInitializer { get; set; }

    /// <summary>
    /// When a job's console output is written to this process's console (standard output and standard error each to
    /// its own stream): <see cref="PPSharp.ConsoleOutput.OnCompletion"/> by default; it is always kept in <see cref="Job.Output"/>.
    /// </summary>
    public ConsoleOutput ConsoleOutput { get; set; } = ConsoleOutput.OnCompletion;

    /// <summary>
    /// Largest single message (one job's arguments or one result) accepted on a channel, in bytes; default
    /// <see cref="DefaultMaxMessageSize"/>, at most 2 GiB less one byte (the most one .NET array holds). Arguments over
    /// it are refused at <c>Submit</c>; a result over it fails only its job, with an error that names the limit and the
    /// size. Nodes have their own limit (<c>ppserver --max-message-size</c>).
    /// </summary>
    public int MaxMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>
    /// The most characters of one job's console output kept (locally; nodes have <c>ppserver --max-output</c>); default
    /// <see cref="DefaultMaxJobOutputSize"/>. Past it the first and the last half are kept, with a line on standard error
    /// between them that says how much was cut, so a job that prints without end costs bounded memory.
    /// </summary>
    public int MaxJobOutputSize { get; set; } = DefaultMaxJobOutputSize;

    /// <summary>
    /// TLS for every node connection, for nodes started with <c>ppserver --tls-cert</c>; null (the default) for none.
    /// The node's certificate is checked as <see cref="System.Net.Security.SslStream"/> does (chain and name, the name
    /// being the node's host unless <see cref="System.Net.Security.SslClientAuthenticationOptions.TargetHost"/> is set),
    /// or by your <see cref="System.Net.Security.SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>
    /// (to pin a self-signed certificate, say). The secret's handshake and the sealed frames run inside TLS, so TLS
    /// adds forward secrecy and a node identity that does not depend on the secret. A node whose TLS handshake fails
    /// is refused, like one with the wrong secret.
    /// </summary>
    public System.Net.Security.SslClientAuthenticationOptions? Tls { get; set; }
}
