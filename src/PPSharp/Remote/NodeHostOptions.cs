using System.Net;
using Microsoft.Extensions.Logging;

namespace PPSharp.Remote;

/// <summary>Settings of a <c>ppserver</c> node (<see cref="NodeHost"/>), with ppft's defaults.</summary>
internal sealed class NodeHostOptions
{
    /// <summary>ppft's default port.</summary>
    public const int DefaultPort = 60000;

    /// <summary>The interface to listen on (<c>-i</c>). Without a secret only loopback is allowed.</summary>
    public IPAddress Interface { get; set; } = IPAddress.Loopback;

    /// <summary>The TCP port (<c>-p</c>); 0 picks a free one (see <see cref="NodeHost.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>Announce the node by UDP broadcast for clients with <c>*</c> patterns (<c>-a</c>).</summary>
    public bool AutoDiscovery { get; set; }

    /// <summary>Where announcements go (<c>-b</c>); ppft's default is the limited broadcast address.</summary>
    public IPAddress Broadcast { get; set; } = IPAddress.Broadcast;

    /// <summary>Local worker processes (<c>-w</c>); null detects the processor count.</summary>
    public int? Workers { get; set; }

    /// <summary>The shared secret clients must prove they know (<c>-s</c>); null means none (loopback only).</summary>
    public string? Secret { get; set; }

    /// <summary>
    /// The salt the secret is stretched with (<c>--salt</c>), <see cref="SecretKey.SaltSize"/> bytes; null draws a fresh
    /// one at each start. Not secret (every node's hello carries it): give the nodes of one cluster the same salt and a
    /// client derives its key once for all of them instead of once per node (<see cref="SecretKey"/>).
    /// </summary>
    public byte[]? Salt
    {
        get;
        set => field = value is null || value.Length == SecretKey.SaltSize
            ? value
            : throw new ArgumentException($"a node's salt has {SecretKey.SaltSize} bytes, not {value.Length}.", nameof(value));
    }

    /// <summary>Restart the worker after each job (<c>-r</c>).</summary>
    public bool Restart { get; set; }

    /// <summary>Replace each worker after this many jobs (<c>--max-jobs-per-worker</c>); 0 never; <see cref="Restart"/> is 1.</summary>
    public int MaxJobsPerWorker { get; set; }

    /// <summary>Stop when no client has been connected for this long (<c>-t</c>); null never stops.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>How long a silent client is trusted (<c>-k</c>).</summary>
    public TimeSpan SocketTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a new connection may take to authenticate.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one of the node's workers may stay silent before it is taken for frozen and replaced.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = JobServerOptions.DefaultHeartbeatTimeout;

    /// <summary>How long a cancelled or timed-out job may take to stop by itself before its worker process is replaced.</summary>
    public TimeSpan CancelGracePeriod { get; set; } = JobServerOptions.DefaultCancelGracePeriod;

    /// <summary>Largest message accepted from an authenticated client (<c>--max-message-size</c>), and largest result sent back.</summary>
    public int MaxMessageSize { get; set; } = JobServerOptions.DefaultMaxMessageSize;

    /// <summary>The most characters of one job's console output its worker keeps (<c>--max-output</c>); head and tail, see <see cref="JobServerOptions.MaxJobOutputSize"/>.</summary>
    public int MaxJobOutputSize { get; set; } = JobServerOptions.DefaultMaxJobOutputSize;

    /// <summary>The default for <see cref="MaxConnections"/>.</summary>
    public const int DefaultMaxConnections = 1024;

    /// <summary>
    /// The most connections open at once, authenticated or not (<c>--max-connections</c>); one more is closed as soon as
    /// it is accepted, so a flood of connections costs a bounded number of sockets.
    /// </summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>The default for <see cref="MaxQueuedJobsPerClient"/>.</summary>
    public const int DefaultMaxQueuedJobsPerClient = 100_000;

    /// <summary>
    /// The most jobs of one client the node holds (queued or running, <c>--max-queued-jobs</c>). At the limit the node
    /// stops reading from that client until some finish; the client's further jobs wait in its own socket buffers and
    /// queue (backpressure), and other clients are served as before.
    /// </summary>
    public int MaxQueuedJobsPerClient { get; set; } = DefaultMaxQueuedJobsPerClient;

    /// <summary>The default for <see cref="MaxQueuedBytesPerClient"/>: 256 MiB.</summary>
    public const long DefaultMaxQueuedBytesPerClient = 256L << 20;

    /// <summary>
    /// The most bytes of one client's job bodies (arguments and captured values) the node holds; past it, as for
    /// <see cref="MaxQueuedJobsPerClient"/>, the node stops reading from the client until some finish.
    /// </summary>
    public long MaxQueuedBytesPerClient { get; set; } = DefaultMaxQueuedBytesPerClient;

    /// <summary>The default for <see cref="MaxUnsentBytesPerClient"/>: 64 MiB.</summary>
    public const long DefaultMaxUnsentBytesPerClient = 64L << 20;

    /// <summary>
    /// The most bytes of results waiting to be written to one client that does not read them. Past it the node starts
    /// none of that client's jobs and reads nothing from it until half has drained; jobs already on workers finish.
    /// With the limits above, one client costs the node at most about
    /// <see cref="MaxQueuedBytesPerClient"/> + <see cref="MaxUnsentBytesPerClient"/> + two messages
    /// (<see cref="MaxMessageSize"/>), returned when it goes.
    /// </summary>
    public long MaxUnsentBytesPerClient { get; set; } = DefaultMaxUnsentBytesPerClient;

    /// <summary>
    /// The node's TLS certificate, with its private key (<c>--tls-cert</c>, <c>--tls-key</c>); null (the default) for
    /// no TLS. With one, every connection starts with a TLS handshake, and clients need <see cref="JobServerOptions.Tls"/>.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; set; }

    /// <summary>Where uploaded assemblies are cached; null means <c>$XDG_CACHE_HOME/ppsharp</c> (or the platform's equivalent).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>The assembly cache's default quota: 1 GiB.</summary>
    public const long DefaultCacheSizeLimit = 1L << 30;

    /// <summary>
    /// The most bytes of uploaded assemblies the node keeps (<c>-C</c>, in MiB); the least recently used are evicted
    /// past it, except those connected clients use. An upload larger than this is refused.
    /// </summary>
    public long CacheSizeLimit { get; set; } = DefaultCacheSizeLimit;

    /// <summary>Where the node logs.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
