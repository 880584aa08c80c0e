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

    /// <summary>Restart the worker after each job (<c>-r</c>).</summary>
    public bool Restart { get; set; }

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

    /// <summary>Largest message accepted from an authenticated client.</summary>
    public int MaxMessageSize { get; set; } = JobServerOptions.DefaultMaxMessageSize;

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
