using System.Buffers.Binary;
using System.Net.Sockets;
using MessagePack;

namespace PPSharp.Tests.Remote;

/// <summary>
/// What a peer that is not a PPSharp client sends to a real node: garbage, an oversized frame before authentication,
/// a hello of another protocol version. Each closes that connection only; the node goes on serving real clients.
/// </summary>
public sealed class HostileInputTests : RemoteTestBase
{
    private static async Task<NetworkStream> ConnectAsync(TestNode node)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", node.Port);
        return client.GetStream();
    }

    /// <summary>Reads until the node closes the connection; returns what it sent first.</summary>
    private static async Task<byte[]> ReadUntilClosedAsync(NetworkStream stream)
    {
        using var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60))) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    private async Task AssertStillServesAsync(TestNode node)
    {
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<int> job = server.Submit((int x) => x + 1, 1);
        Assert.Equal(2, await job.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(node.Address, job.Node);
    }

    [Fact]
    public async Task Garbage_ClosesThatConnectionOnly()
    {
        using TestNode node = await TestNode.StartAsync(Secret, CacheHome);
        using (NetworkStream stream = await ConnectAsync(node))
        {
            byte[] junk = new byte[4096];
            new Random(3).NextBytes(junk);
            await stream.WriteAsync(junk);
            await ReadUntilClosedAsync(stream);
        }

        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task OversizedFrameBeforeAuthentication_IsRefusedUnread()
    {
        using TestNode node = await TestNode.StartAsync(Secret, CacheHome);
        using (NetworkStream stream = await ConnectAsync(node))
        {
            byte[] header = new byte[5];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 100_000_000); // 100 MB announced before any handshake
            header[4] = 7; // NodeHello
            await stream.WriteAsync(header);
            await ReadUntilClosedAsync(stream);
        }

        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task HelloOfAnotherProtocolVersion_IsAnsweredWithAClearErrorAndClosed()
    {
        using TestNode node = await TestNode.StartAsync(Secret, CacheHome);
        using (NetworkStream stream = await ConnectAsync(node))
        {
            var payload = new System.Buffers.ArrayBufferWriter<byte>();
            var writer = new MessagePackWriter(payload);
            writer.Write(999);
            writer.Write("client");
            writer.Write(new byte[32]);
            writer.Flush();
            byte[] frame = new byte[5 + payload.WrittenCount];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.WrittenCount);
            frame[4] = 7; // NodeHello
            payload.WrittenSpan.CopyTo(frame.AsSpan(5));
            await stream.WriteAsync(frame);

            string answer = System.Text.Encoding.UTF8.GetString(await ReadUntilClosedAsync(stream));
            Assert.Contains("protocol version mismatch", answer);
        }

        await AssertStillServesAsync(node);
    }
}
