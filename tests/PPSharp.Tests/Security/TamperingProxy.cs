using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PPSharp.Protocol;

namespace PPSharp.Tests.Security;

/// <summary>Which way a frame travels through the proxy.</summary>
internal enum Direction
{
    ClientToNode,
    NodeToClient,
}

/// <summary>
/// A man in the middle without the secret: a TCP proxy on loopback between a client and a node that reads whole
/// frames (their 5-byte headers are in the clear) and lets a plan alter, repeat, hold back or reorder them on the
/// first connection. Later connections pass through untouched, so a client that drops a bad connection and comes
/// back can finish its work. Disposing it closes every socket it opened.
/// </summary>
internal sealed class TamperingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _nodePort;
    private readonly Func<Direction, int, MessageType, byte[], IEnumerable<byte[]>> _plan;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accepting;
    private int _connections;

    /// <param name="nodePort">The node's port on 127.0.0.1.</param>
    /// <param name="plan">For the first connection: given a frame's direction, index in that direction (from 0), type and
    /// bytes, what to send on instead (nothing to drop or hold it).</param>
    public TamperingProxy(int nodePort, Func<Direction, int, MessageType, byte[], IEnumerable<byte[]>> plan)
    {
        _nodePort = nodePort;
        _plan = plan;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Completes when the first connection (the one tampered with) has been closed by either end.</summary>
    public TaskCompletionSource FirstClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            int index = Interlocked.Increment(ref _connections) - 1;
            var node = new TcpClient { NoDelay = true };
            client.NoDelay = true;
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(node);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await node.ConnectAsync(IPAddress.Loopback, _nodePort, _stop.Token);
                    Task up = PumpAsync(client.GetStream(), node.GetStream(), Direction.ClientToNode, index == 0);
                    Task down = PumpAsync(node.GetStream(), client.GetStream(), Direction.NodeToClient, index == 0);
                    await Task.WhenAny(up, down);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    client.Dispose();
                    node.Dispose();
                    if (index == 0)
                    {
                        FirstClosed.TrySetResult();
                    }
                }
            });
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Direction direction, bool tamper)
    {
        byte[] header = new byte[FrameCodec.HeaderSize];
        try
        {
            for (int index = 0; ; index++)
            {
                await from.ReadExactlyAsync(header, _stop.Token);
                int length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(header));
                byte[] frame = new byte[FrameCodec.HeaderSize + length];
                header.CopyTo(frame, 0);
                await from.ReadExactlyAsync(frame.AsMemory(FrameCodec.HeaderSize), _stop.Token);
                IEnumerable<byte[]> outgoing = tamper ? _plan(direction, index, (MessageType)header[4], frame) : [frame];
                foreach (byte[] bytes in outgoing)
                {
                    await to.WriteAsync(bytes, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or SocketException or OperationCanceledException or ObjectDisposedException or OverflowException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (TcpClient socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _accepting;
        _stop.Dispose();
    }
}
