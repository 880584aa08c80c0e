using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using MessagePack;
using PPSharp.Protocol;
using PPSharp.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// A hand-driven client of a real node, built from the library's own handshake and framing: it authenticates like a
/// <c>JobServer</c> would, then lets a test send whatever it likes, as a client that knows the secret but does not
/// play by the rules.
/// </summary>
internal sealed class RawNodeClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly FrameConnection _connection;
    private readonly Channel<(MessageType Type, byte[] Payload)> _received = Channel.CreateUnbounded<(MessageType, byte[])>();
    private FrameOpener? _pendingOpener;

    private RawNodeClient(TcpClient tcp)
    {
        _tcp = tcp;
        _connection = new FrameConnection(tcp.GetStream(), int.MaxValue, (type, payload) =>
        {
            _received.Writer.TryWrite((type, payload.ToArray()));
            if (type == MessageType.AuthProof && _pendingOpener is { } opener)
            {
                _connection!.ProtectReceiving(opener); // on the read loop: the very next frame is sealed
                _pendingOpener = null;
            }
        });
    }

    public Task<Exception?> Closed => _connection.Completion;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and completes the handshake; returns once NodeInfo is in.</summary>
    public static async Task<RawNodeClient> ConnectAsync(int port, string secret)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawNodeClient(tcp);
        client._connection.Start();
        byte[] clientNonce = Handshake.NewNonce();
        client._connection.Send(Handshake.Hello(Handshake.ClientRole, clientNonce));
        (MessageType helloType, byte[] hello) = await client.ReceiveAsync();
        Assert.Equal(MessageType.NodeHello, helloType);
        (byte[] nodeNonce, byte[]? salt) = Handshake.ReadHello(new ReadOnlySequence<byte>(hello), Handshake.NodeRole);
        byte[] key = await SecretKey.DeriveAsync(secret, salt!);
        (byte[] toNode, byte[] fromNode) = Handshake.SessionKeys(key, clientNonce, nodeNonce);
        client._pendingOpener = new FrameOpener(fromNode);
        client._connection.Send(Handshake.Proof(key, Handshake.ClientRole, clientNonce, nodeNonce));
        client._connection.ProtectSending(new FrameSealer(toNode));
        (MessageType proofType, byte[] proof) = await client.ReceiveAsync();
        Assert.Equal(MessageType.AuthProof, proofType);
        Assert.True(Handshake.Verify(new ReadOnlySequence<byte>(proof), key, Handshake.NodeRole, clientNonce, nodeNonce));
        Assert.Equal(MessageType.NodeInfo, (await client.ReceiveAsync()).Type);
        return client;
    }

    public async Task<(MessageType Type, byte[] Payload)> ReceiveAsync() =>
        await _received.Reader.ReadAsync().AsTask().WaitAsync(Bounds.Hang);

    public void Send(MessageType type, Signal.WriteValues write) => _connection.Send(Signal.Of(type, write));

    /// <summary>Sends a frame as the library writes it (a function's definition, say).</summary>
    public void Send(IOutgoingFrame frame) => _connection.Send(frame);

    /// <summary>Stops reading what the node sends, as a client that does not read its results; <see cref="ResumeReading"/> reads again.</summary>
    public void PauseReading() => _connection.PauseReading();

    public void ResumeReading() => _connection.ResumeReading();

    /// <summary>Writes bytes to the socket past the framing (nothing else may be being sent).</summary>
    public async Task SendRawAsync(byte[] bytes) => await _tcp.GetStream().WriteAsync(bytes);

    public static byte[] Header(uint length, MessageType type)
    {
        byte[] header = new byte[FrameCodec.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = (byte)type;
        return header;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _tcp.Dispose();
    }
}
