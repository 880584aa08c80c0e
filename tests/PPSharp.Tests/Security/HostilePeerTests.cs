using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using MessagePack;
using PPSharp.Protocol;
using PPSharp.Remote;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// Peers of a real node that do not play by the rules: one without the secret that asks for the node's proof, and
/// authenticated ones that upload what was not asked for or announce frames over the limit. Each loses its own
/// connection; the node goes on serving honest clients.
/// </summary>
public sealed class HostilePeerTests : RemoteTestBase
{
    private static async Task<List<(MessageType Type, byte[] Payload)>> ReadFramesUntilClosedAsync(NetworkStream stream)
    {
        using var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Bounds.Hang)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset is a way of closing too; what arrived before it is what the node sent.
        }

        var frames = new List<(MessageType, byte[])>();
        var sequence = new ReadOnlySequence<byte>(received.ToArray());
        while (FrameCodec.TryRead(ref sequence, int.MaxValue, out MessageType type, out ReadOnlySequence<byte> payload))
        {
            frames.Add((type, payload.ToArray()));
        }

        return frames;
    }

    private static byte[] Frame(MessageType type, Signal payload)
    {
        byte[] body = FrameProtectionUnitTests.Payload(payload).ToArray();
        return [.. RawNodeClient.Header((uint)body.Length, type), .. body];
    }

    private async Task AssertStillServesAsync(TestNode node)
    {
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<int> job = server.Submit((int x) => x + 1, 1);
        Assert.Equal(2, await job.Within());
        Assert.Equal(node.Address, job.Node);
    }

    [Fact]
    public async Task NodesGivenOneSalt_ShowItInTheirHellos_AndOneClientUsesThemAll()
    {
        const string Salt = "0123456789abcdef0123456789abcdef";
        using TestNode first = await StartNodeAsync(extraArguments: ["--salt", Salt]);
        using TestNode second = await StartNodeAsync(extraArguments: ["--salt", Salt]);

        foreach (TestNode node in new[] { first, second })
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", node.Port);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(Frame(MessageType.NodeHello, Handshake.Hello(Handshake.ClientRole, Handshake.NewNonce())));
            await stream.WriteAsync(Frame(MessageType.AuthProof, Signal.Of(MessageType.AuthProof, (ref MessagePackWriter w) => w.Write(new byte[32]))));
            List<(MessageType Type, byte[] Payload)> frames = await ReadFramesUntilClosedAsync(stream);

            (_, byte[]? salt) = Handshake.ReadHello(new ReadOnlySequence<byte>(frames[0].Payload), Handshake.NodeRole);
            Assert.Equal(Convert.FromHexString(Salt), salt);
        }

        await using var server = new JobServer(0, ppservers: [first.Address, second.Address], secret: Secret);
        await first.WaitUntilActiveAsync(server);
        await second.WaitUntilActiveAsync(server);
        Job<int>[] jobs = [.. Enumerable.Range(0, 4).Select(i => server.Submit((int x) => x * 2, i))];
        int[] results = await jobs.AllWithin();
        Assert.Equal([0, 2, 4, 6], results);
    }

    [Fact]
    public async Task AHelloThatAsksForAProof_GetsOnlyTheNodesHello_AndAWrongProofOnlyAnError()
    {
        using TestNode node = await StartNodeAsync();
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", node.Port);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(Frame(MessageType.NodeHello, Handshake.Hello(Handshake.ClientRole, Handshake.NewNonce())));
            await stream.WriteAsync(Frame(MessageType.AuthProof, Signal.Of(MessageType.AuthProof, (ref MessagePackWriter w) => w.Write(new byte[32]))));

            List<(MessageType Type, byte[] Payload)> frames = await ReadFramesUntilClosedAsync(stream);

            Assert.Equal([MessageType.NodeHello, MessageType.Error], frames.Select(f => f.Type));
            (byte[] nonce, byte[]? salt) = Handshake.ReadHello(new ReadOnlySequence<byte>(frames[0].Payload), Handshake.NodeRole);
            Assert.Equal(32, nonce.Length); // random, and the salt is public: nothing here depends on the secret
            Assert.Equal(SecretKey.SaltSize, salt!.Length);
            Assert.Contains("authentication failed", Handshake.ReadError(new ReadOnlySequence<byte>(frames[1].Payload)));
        }

        using (var tcp = new TcpClient())
        {
            // A hello, then nothing: the node sends its hello and nothing more before it closes.
            await tcp.ConnectAsync("127.0.0.1", node.Port);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(Frame(MessageType.NodeHello, Handshake.Hello(Handshake.ClientRole, Handshake.NewNonce())));
            tcp.Client.Shutdown(SocketShutdown.Send);

            List<(MessageType Type, byte[] Payload)> frames = await ReadFramesUntilClosedAsync(stream);

            // The node may close before its hello is out (this address has just failed, so it is answered late, and
            // the peer has already shut down): whatever did arrive, nothing derived from the secret did.
            Assert.DoesNotContain(MessageType.AuthProof, frames.Select(f => f.Type));
            Assert.All(frames, f => Assert.Equal(MessageType.NodeHello, f.Type));
        }

        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task AnUnrequestedUpload_IsRefused_AndNotStored()
    {
        using TestNode node = await StartNodeAsync(debug: true);
        byte[] content = RandomNumberGenerator.GetBytes(64 * 1024);
        string sha = Convert.ToHexStringLower(SHA256.HashData(content));
        await using (RawNodeClient client = await RawNodeClient.ConnectAsync(node.Port, Secret))
        {
            client.Send(MessageType.AssemblyData, (ref MessagePackWriter w) =>
            {
                w.Write(sha);
                w.Write(content);
            });

            await client.Closed.WaitAsync(Bounds.Hang);
        }

        string line = await node.Process.WaitForErrorLineAsync(l => l.Contains("did not ask for", StringComparison.Ordinal), "the refused upload");
        Assert.Contains(sha, line);
        Assert.Empty(Directory.GetFiles(CacheHome, sha + "*", SearchOption.AllDirectories));
        await AssertStillServesAsync(node);
    }

    [Theory]
    [InlineData(0xFFFF_FFFFu)] // 4 GiB
    [InlineData(0x8000_0000u)] // 2 GiB: past the default limit with its tag
    public async Task AnOversizedDeclarationAfterAuthentication_ClosesTheConnectionUnread(uint length)
    {
        using TestNode node = await StartNodeAsync();
        await using (RawNodeClient client = await RawNodeClient.ConnectAsync(node.Port, Secret))
        {
            await client.SendRawAsync(RawNodeClient.Header(length, (MessageType)FrameProtection.RecordType));

            await client.Closed.WaitAsync(Bounds.Hang);
        }

        string line = await node.Process.WaitForErrorLineAsync(l => l.Contains("announced a frame of", StringComparison.Ordinal), "the refused declaration");
        Assert.Contains(length.ToString(System.Globalization.CultureInfo.InvariantCulture), line);
        await AssertStillServesAsync(node);
    }
}
