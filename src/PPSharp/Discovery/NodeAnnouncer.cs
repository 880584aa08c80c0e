using System.Net;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;

namespace PPSharp.Discovery;

/// <summary>
/// A node's side of auto-discovery (<c>ppserver -a</c>): announces the node on the broadcast address at start and
/// every <see cref="DiscoveryDatagram.AnnounceInterval"/>, and at once when a client asks (at most once a second,
/// so a flood of requests cannot turn the node into a flood of announcements).
/// </summary>
internal sealed class NodeAnnouncer : IDisposable
{
    private static readonly TimeSpan MinimumGap = TimeSpan.FromSeconds(1);

    private readonly DiscoverySocket _socket;
    private readonly byte[] _announcement;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private long _lastAnnounced;

    public NodeAnnouncer(IPAddress broadcast, int port, IPAddress listening, ILogger logger)
    {
        _socket = new DiscoverySocket(broadcast, port);
        _announcement = DiscoveryDatagram.Announcement(port, listening.Equals(IPAddress.Any) ? null : listening.ToString());
        _logger = logger;
        _ = Task.Run(() => _socket.ReceiveLoopAsync(OnDatagram, _stop.Token));
        _ = Task.Run(AnnounceLoopAsync);
        Log.DiscoveryAnnouncing(logger, broadcast.ToString(), port);
    }

    private void OnDatagram(ReadOnlyMemory<byte> datagram, IPAddress source)
    {
        if (DiscoveryDatagram.IsRequest(datagram.Span) && _wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task AnnounceLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (Environment.TickCount64 - Interlocked.Read(ref _lastAnnounced) >= MinimumGap.TotalMilliseconds)
            {
                Interlocked.Exchange(ref _lastAnnounced, Environment.TickCount64);
                if (!await _socket.BroadcastAsync(_announcement, _stop.Token).ConfigureAwait(false))
                {
                    Log.DiscoverySendFailed(_logger);
                }
            }

            try
            {
                await _wake.WaitAsync(DiscoveryDatagram.AnnounceInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }
}
