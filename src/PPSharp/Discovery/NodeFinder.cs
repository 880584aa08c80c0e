using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;

namespace PPSharp.Discovery;

/// <summary>
/// A client's side of auto-discovery for one <c>ppservers</c> pattern with <c>*</c>, as ppft's: <c>"*"</c> (port
/// 60000), <c>"*:35000"</c>, <c>"192.168.1.*:35000"</c>. The broadcast address is the pattern with each <c>*</c>
/// replaced by 255; the finder asks nodes there to announce themselves, listens for announcements, and reports each
/// node whose address matches the pattern.
/// </summary>
internal sealed class NodeFinder : IDisposable
{
    private readonly string[] _octets;
    private readonly DiscoverySocket _socket;
    private readonly Action<string, int> _found;
    private readonly CancellationTokenSource _stop = new();

    private NodeFinder(string[] octets, int port, Action<string, int> found, ILogger logger)
    {
        _octets = octets;
        _found = found;
        var broadcast = IPAddress.Parse(string.Join('.', octets.Select(o => o == "*" ? "255" : o)));
        _socket = new DiscoverySocket(broadcast, port);
        _ = Task.Run(() => _socket.ReceiveLoopAsync(OnDatagram, _stop.Token));
        _ = _socket.BroadcastAsync(DiscoveryDatagram.Request(), _stop.Token);
        Log.DiscoveryListening(logger, broadcast.ToString(), port);
    }

    public static bool IsPattern(string address) => address.Contains('*', StringComparison.Ordinal);

    /// <exception cref="ArgumentException">The pattern is not an IPv4 address pattern.</exception>
    public static NodeFinder Start(string pattern, Action<string, int> found, ILogger logger)
    {
        (string[] octets, int port) = Parse(pattern);
        return new NodeFinder(octets, port, found, logger);
    }

    /// <summary>Splits a pattern into its four octets (each a number or <c>*</c>) and its port.</summary>
    /// <exception cref="ArgumentException">The pattern is not an IPv4 address pattern.</exception>
    public static (string[] Octets, int Port) Parse(string pattern)
    {
        string host = pattern;
        int port = Remote.NodeHostOptions.DefaultPort;
        int colon = pattern.LastIndexOf(':');
        if (colon >= 0)
        {
            host = pattern[..colon];
            if (!int.TryParse(pattern.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                throw new ArgumentException($"'{pattern}' is not a node pattern: the port must be a number from 1 to 65535.", nameof(pattern));
            }
        }

        string[] octets = host == "*" ? ["*", "*", "*", "*"] : host.Split('.');
        if (octets.Length != 4 || octets.Any(o => o != "*" && !byte.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new ArgumentException($"'{pattern}' is not a node pattern: use an IPv4 address with * for any octet, as in 192.168.1.*:35000.", nameof(pattern));
        }

        return (octets, port);
    }

    private void OnDatagram(ReadOnlyMemory<byte> datagram, IPAddress source)
    {
        if (!DiscoveryDatagram.TryReadAnnouncement(datagram.Span, out int port, out string? address))
        {
            return; // Not ours, or malformed: ignored.
        }

        string host = address ?? source.ToString();
        if (Matches(host))
        {
            _found(host, port);
        }
    }

    private bool Matches(string host)
    {
        string[] parts = host.Split('.');
        return parts.Length == 4 && parts.Zip(_octets).All(p => p.Second == "*" || p.First == p.Second);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }
}
