using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PPSharp.Protocol;

namespace PPSharp.Tests.Protocol;

/// <summary>A <see cref="FrameConnection"/> over a real loopback socket, reading on its own thread (as a worker does) or not.</summary>
public sealed class FrameConnectionTests
{
    /// <summary>A connected pair of loopback sockets: the raw peer, and the end the connection reads.</summary>
    private static (Socket Peer, Socket Ours) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect(listener.LocalEndPoint!);
        return (peer, listener.Accept());
    }

    private static byte[] Frames(int count)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < count; i++)
        {
            var header = new byte[FrameCodec.HeaderSize];
            FrameCodec.WriteHeader(header, MessageType.Ping, 1);
            bytes.AddRange(header);
            bytes.Add((byte)i);
        }

        return [.. bytes];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EveryFrameIsHandedOnInOrder_AndAfterFramesFollowsTheLastOne_ThenThePeersCloseEndsIt(bool readOnOwnThread)
    {
        (Socket peer, Socket ours) = Pair();
        using Socket _ = peer;
        var seen = new ConcurrentQueue<(byte Value, string? Thread)>();
        var afterFrames = new ConcurrentQueue<int>();
        var connection = new FrameConnection(new NetworkStream(ours, ownsSocket: true), 1024, (type, payload) =>
        {
            Assert.Equal(MessageType.Ping, type);
            seen.Enqueue((payload.FirstSpan[0], Thread.CurrentThread.Name));
        }, readOnOwnThread)
        {
            AfterFrames = () => afterFrames.Enqueue(seen.Count),
        };
        await using (connection)
        {
            connection.Start();
            peer.Send(Frames(200));
            peer.Shutdown(SocketShutdown.Send);

            Exception? reason = await connection.Completion.WaitAsync(Bounds.Hang);

            Assert.Null(reason);
            Assert.Equal(Enumerable.Range(0, 200).Select(i => (byte)i), seen.Select(s => s.Value));
            Assert.Equal(200, afterFrames.Last()); // the burst is published after its last frame, not left staged
            Assert.Equal(afterFrames.Order(), afterFrames); // once per read, each after that read's frames
            if (readOnOwnThread)
            {
                Assert.All(seen, s => Assert.Equal("PPSharp frame reader", s.Thread));
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APeerThatClosesMidFrame_EndsTheConnectionWithAProtocolError(bool readOnOwnThread)
    {
        (Socket peer, Socket ours) = Pair();
        using Socket _ = peer;
        int frames = 0;
        await using var connection = new FrameConnection(new NetworkStream(ours, ownsSocket: true), 1024, (_, _) => frames++, readOnOwnThread);
        connection.Start();
        byte[] two = Frames(2);
        peer.Send(two.AsSpan(0, two.Length - 3)); // the second frame cut short
        peer.Shutdown(SocketShutdown.Send);

        Exception? reason = await connection.Completion.WaitAsync(Bounds.Hang);

        Assert.IsType<ProtocolException>(reason);
        Assert.Equal(1, frames);
    }

    [Fact]
    public async Task ReadingOnItsOwnThread_EndsWhenClosedFromThisSide_WhileBlockedInReceive()
    {
        (Socket peer, Socket ours) = Pair();
        using Socket _ = peer;
        var connection = new FrameConnection(new NetworkStream(ours, ownsSocket: true), 1024, (_, _) => { }, readOnOwnThread: true);
        connection.Start();
        peer.Send(Frames(1)); // the reader has read once and is now blocked in the next receive

        await connection.DisposeAsync().AsTask().WaitAsync(Bounds.Hang); // closes the socket under the blocked read

        Assert.True(connection.Completion.IsCompleted);
    }
}
