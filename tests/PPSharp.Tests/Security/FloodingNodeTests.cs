using System.Buffers;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using PPSharp.Protocol;
using PPSharp.Remote;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// The client's side of bounded memory: a node that knows the secret but floods the client with answers to jobs it
/// never sent (here, 640 MiB of them) costs the client one frame at a time, and the job the client did send still gets
/// its one right answer. The node is a fake one the test runs, built from the library's own handshake and framing.
/// </summary>
[Collection(nameof(RunsAlone))] // measures this process's managed heap
public sealed class FloodingNodeTests
{
    private const int FloodFrames = 10_000;
    private const int FloodResultSize = 64 << 10;

    [Fact]
    public async Task AnswersToJobsNeverSent_AreDropped_AsTheyArrive_AndTheRealJobGetsItsOneAnswer()
    {
        string secret = TestNode.NewSecret();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<long> fake = RunFakeNodeAsync(listener, secret);
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);

        var options = new JobServerOptions { Ncpus = 0, Secret = secret };
        options.PpServers.Add($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        int callbacks = 0;
        using (var server = new JobServer(options))
        {
            Job<int> job = server.Submit((int x) => x + 1, 41, callback: _ => Interlocked.Increment(ref callbacks));

            Assert.Equal(42, await job.Within());
            long realJobId = await fake.WaitAsync(Bounds.Heavy);
            Assert.Equal(job.Id, realJobId);
            server.Wait();
        }

        Assert.Equal(1, callbacks);
        long grew = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(grew < 64L << 20, $"the client's managed heap kept {grew >> 20} MiB after {(long)FloodFrames * FloodResultSize >> 20} MiB of unsolicited answers");
    }

    /// <summary>Serves one client as a node would through the handshake, then floods it; returns the real job's id.</summary>
    private static async Task<long> RunFakeNodeAsync(TcpListener listener, string secret)
    {
        using Socket socket = await listener.AcceptSocketAsync().WaitAsync(Bounds.Hang);
        byte[] salt = SecretKey.NewSalt();
        byte[] nodeNonce = Handshake.NewNonce();
        byte[] key = await SecretKey.DeriveAsync(secret, salt);
        var frames = System.Threading.Channels.Channel.CreateUnbounded<(MessageType Type, byte[] Payload)>();
        FrameConnection? connection = null;
        connection = new FrameConnection(new NetworkStream(socket, ownsSocket: false), int.MaxValue, (type, payload) =>
        {
            frames.Writer.TryWrite((type, payload.ToArray()));
        });
        await using (connection)
        {
            connection.Start();
            connection.Send(Handshake.Hello(Handshake.NodeRole, nodeNonce, salt));
            (MessageType helloType, byte[] hello) = await frames.Reader.ReadAsync().AsTask().WaitAsync(Bounds.Hang);
            Assert.Equal(MessageType.NodeHello, helloType);
            byte[] clientNonce = Handshake.ReadHello(new ReadOnlySequence<byte>(hello), Handshake.ClientRole).Nonce;
            (byte[] fromClient, byte[] toClient) = Handshake.SessionKeys(key, clientNonce, nodeNonce);
            (MessageType proofType, byte[] proof) = await frames.Reader.ReadAsync().AsTask().WaitAsync(Bounds.Hang);
            Assert.Equal(MessageType.AuthProof, proofType);
            Assert.True(Handshake.Verify(new ReadOnlySequence<byte>(proof), key, Handshake.ClientRole, clientNonce, nodeNonce));
            connection.ProtectReceiving(new FrameOpener(fromClient)); // the client sends nothing after its proof until ours
            connection.Send(Handshake.Proof(key, Handshake.NodeRole, clientNonce, nodeNonce));
            connection.ProtectSending(new FrameSealer(toClient));
            connection.Send(Signal.Of(MessageType.NodeInfo, (ref MessagePackWriter w) => w.Write(1)));

            while (true)
            {
                (MessageType type, byte[] payload) = await frames.Reader.ReadAsync().AsTask().WaitAsync(Bounds.Hang);
                if (type != MessageType.RunJob)
                {
                    continue; // its function's definition, pings
                }

                Messages.RunJob header = Messages.RunJob.Read(new ReadOnlySequence<byte>(payload), out _);
                byte[] junk = MessagePackSerializer.Serialize(new byte[FloodResultSize]);
                for (int i = 1; i <= FloodFrames; i++)
                {
                    connection.Send(new Messages.JobSucceeded(header.JobId + (1L << 40) + i, 0, null, junk)); // ids it never sent
                    if (i % 500 == 0)
                    {
                        await WhenSentAsync(connection); // as fast as the client reads, not all queued here at once
                    }
                }

                connection.Send(new Messages.JobSucceeded(header.JobId, 0, null, MessagePackSerializer.Serialize(42)));
                connection.Send(new Messages.JobSucceeded(header.JobId, 0, null, MessagePackSerializer.Serialize(43))); // a second answer
                await WhenSentAsync(connection);
                return header.JobId;
            }
        }
    }

    private static Task WhenSentAsync(FrameConnection connection)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.WhenUnsentBelow(0, () => sent.TrySetResult());
        return sent.Task.WaitAsync(Bounds.Hang);
    }
}
