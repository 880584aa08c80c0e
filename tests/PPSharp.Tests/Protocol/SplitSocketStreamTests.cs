using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using PPSharp.Protocol;
using PPSharp.Workers;

namespace PPSharp.Tests.Protocol;

/// <summary>
/// A local worker's channel over real Unix sockets, one each way: a <see cref="FrameConnection"/> on a
/// <see cref="SplitSocketStream"/>, and the Hello that vouches for the socket the job server only writes to.
/// </summary>
public sealed class SplitSocketStreamTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-split-").FullName;
    private int _next;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A connected pair of Unix sockets: (the far end, the near end).</summary>
    private (Socket Far, Socket Near) Pair()
    {
        string path = Path.Combine(_folder, $"{++_next}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var far = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        far.Connect(new UnixDomainSocketEndPoint(path));
        return (far, listener.Accept());
    }

    private static byte[] Frame(IOutgoingFrame frame)
    {
        var buffer = new PooledBufferWriter();
        Assert.True(FrameCodec.TryAppend(buffer, frame, 1 << 20, out _));
        byte[] bytes = buffer.WrittenSpan.ToArray();
        buffer.Release();
        return bytes;
    }

    private static byte[] ReadToEnd(Socket socket)
    {
        var all = new List<byte>();
        var chunk = new byte[4096];
        socket.ReceiveTimeout = (int)Bounds.Hang.TotalMilliseconds;
        int read;
        while ((read = socket.Receive(chunk)) > 0)
        {
            all.AddRange(chunk.AsSpan(0, read));
        }

        return [.. all];
    }

    [Fact]
    public async Task FramesGoOutOnOneSocketAndComeInOnTheOther_AndEndingTheSendingSideClosesOnlyThatWay()
    {
        (Socket readsOurFrames, Socket toPeer) = Pair();
        (Socket sendsUsFrames, Socket fromPeer) = Pair();
        using Socket a = readsOurFrames, b = sendsUsFrames;
        var received = new ConcurrentQueue<long>();
        var connection = new FrameConnection(new SplitSocketStream(fromPeer, toPeer), 1024,
            (type, payload) => received.Enqueue(Messages.JobSignal.Read(payload)));
        await using (connection)
        {
            connection.Start();
            for (long id = 1; id <= 50; id++)
            {
                connection.Send(new Messages.JobSignal(MessageType.RevokeJob, id));
            }

            connection.CompleteSending();
            byte[] sent = ReadToEnd(readsOurFrames); // ends: the connection half-closed its outgoing socket

            var frames = new ReadOnlySequence<byte>(sent);
            var ids = new List<long>();
            while (FrameCodec.TryRead(ref frames, 1024, out MessageType type, out ReadOnlySequence<byte> payload))
            {
                Assert.Equal(MessageType.RevokeJob, type);
                ids.Add(Messages.JobSignal.Read(payload));
            }

            Assert.True(frames.IsEmpty);
            Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), ids);

            // The other way is still open: frames from the peer arrive after this side stopped sending.
            sendsUsFrames.Send(Frame(new Messages.JobSignal(MessageType.JobRevoked, 7)));
            sendsUsFrames.Shutdown(SocketShutdown.Send);
            Assert.Null(await connection.Completion.WaitAsync(Bounds.Hang));
            Assert.Equal([7L], received);
        }
    }

    [Fact]
    public async Task ClosingTheConnection_ClosesBothSockets()
    {
        (Socket readsOurFrames, Socket toPeer) = Pair();
        (Socket sendsUsFrames, Socket fromPeer) = Pair();
        using Socket a = readsOurFrames, b = sendsUsFrames;
        var connection = new FrameConnection(new SplitSocketStream(fromPeer, toPeer), 1024, (_, _) => { });
        connection.Start();

        await connection.DisposeAsync().AsTask().WaitAsync(Bounds.Hang);

        Assert.Empty(ReadToEnd(readsOurFrames));
        Assert.Empty(ReadToEnd(sendsUsFrames));
    }

    [Fact]
    public void TheHelloOnTheSocketTheServerWritesTo_IsReadWhole()
    {
        (Socket worker, Socket server) = Pair();
        using Socket a = worker, b = server;
        byte[] hello = Frame(new Messages.Hello(Messages.ProtocolVersion, "token", 42, Messages.BuildId));
        worker.Send(hello.AsSpan(0, 3)); // in two pieces: a header cut short is waited for
        var rest = Task.Run(() => worker.Send(hello.AsSpan(3)));

        Messages.Hello read = LocalWorker.ReadHello(server, Bounds.Hang);

        rest.Wait(Bounds.Hang);
        Assert.Equal(new Messages.Hello(Messages.ProtocolVersion, "token", 42, Messages.BuildId), read);
    }

    public static TheoryData<string> BadOpenings => ["other frame", "more after", "closed", "silent", "malformed", "too long"];

    [Theory]
    [MemberData(nameof(BadOpenings))]
    public void AnythingButAHelloAlone_IsRefusedWithAProtocolError(string opening)
    {
        (Socket worker, Socket server) = Pair();
        using Socket a = worker, b = server;
        byte[] hello = Frame(new Messages.Hello(Messages.ProtocolVersion, "token", 42, Messages.BuildId));
        switch (opening)
        {
            case "other frame":
                worker.Send(Frame(Signal.Pong));
                break;
            case "more after":
                worker.Send([.. hello, .. Frame(Signal.Pong)]);
                break;
            case "closed":
                worker.Send(hello.AsSpan(0, 4));
                worker.Shutdown(SocketShutdown.Send);
                break;
            case "malformed":
                worker.Send(Frame(new Signal(MessageType.Hello, new byte[] { 0xc1, 0xc1 })));
                break;
            case "too long":
                byte[] header = new byte[FrameCodec.HeaderSize];
                FrameCodec.WriteHeader(header, MessageType.Hello, 2000);
                worker.Send(header);
                break;
        }

        var started = Stopwatch.StartNew();
        Assert.Throws<ProtocolException>(() => LocalWorker.ReadHello(server, opening == "silent" ? TimeSpan.FromMilliseconds(200) : Bounds.Hang));
        Assert.True(started.Elapsed < Bounds.Hang, "refused, not waited out");
    }
}
