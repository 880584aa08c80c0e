using System.Net;
using System.Net.Sockets;

namespace PPSharp.Discovery;

/// <summary>
/// A UDP socket on the discovery port that several processes on one machine can share (a node and its clients, or
/// several nodes), able to send broadcasts. It listens on the any-address: on Linux a socket bound to 127.0.0.1
/// does not receive datagrams sent to 127.255.255.255.
/// </summary>
internal sealed class DiscoverySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _broadcast;

    public DiscoverySocket(IPAddress broadcast, int port)
    {
        _broadcast = new IPEndPoint(broadcast, port);
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.EnableBroadcast = true;
        _socket.Bind(new IPEndPoint(IPAddress.Any, port));
    }

    /// <summary>Sends to the broadcast address; a failure (no route, say) is reported, never thrown.</summary>
    public async Task<bool> BroadcastAsync(byte[] datagram, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendToAsync(datagram, SocketFlags.None, _broadcast, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Receives datagrams until cancelled, handing each one (at most <see cref="DiscoveryDatagram.MaxSize"/> bytes;
    /// larger ones arrive truncated and are rejected by their parser) to <paramref name="handle"/> with its source.
    /// </summary>
    public async Task ReceiveLoopAsync(Action<ReadOnlyMemory<byte>, IPAddress> handle, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[DiscoveryDatagram.MaxSize + 1];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // e.g. a truncated (oversized) datagram: drop it, keep listening
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (received.ReceivedBytes <= DiscoveryDatagram.MaxSize && received.RemoteEndPoint is IPEndPoint source)
            {
                handle(buffer.AsMemory(0, received.ReceivedBytes), source.Address);
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
