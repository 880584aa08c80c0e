using PPSharp.Protocol;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// A proxy without the secret sits between a client and a real node after a genuine handshake and alters, replays or
/// reorders sealed frames. Each time the side that receives them closes the connection, the client comes back (the
/// proxy then passes frames untouched), and the job's result is the right one, delivered once.
/// </summary>
public sealed class TamperedFrameTests : RemoteTestBase
{
    /// <summary>Frames 0 and 1 of each direction are the hello and the proof; from 2 on, each is a sealed record.</summary>
    private const int FirstSealed = 2;

    private static IEnumerable<byte[]> Flip(byte[] frame, int offsetFromEnd)
    {
        byte[] altered = (byte[])frame.Clone();
        altered[^offsetFromEnd] ^= 0x01;
        return [altered];
    }

    public static TheoryData<string> Plans =>
    [
        "alter the client's first sealed record", "alter a node record after the job was sent",
        "replay the client's first sealed record", "replay a node record after the job was sent",
        "reorder the client's first two sealed records",
    ];

    /// <summary>
    /// What the proxy does to the first connection. The client's first sealed record carries its DefineFunction and
    /// RunJob; it sends more (its code, on the node's request, or a ping) only after the node has the job, so a node
    /// record that comes after the client's second sealed record is usually the job's result (whichever it is, the
    /// connection must close and the job still come back right).
    /// </summary>
    private static Func<Direction, int, MessageType, byte[], IEnumerable<byte[]>> Plan(string name)
    {
        int done = 0;
        int clientRecords = 0;
        byte[]? held = null;
        return (direction, index, type, frame) =>
        {
            if (Volatile.Read(ref done) != 0)
            {
                return [frame];
            }

            bool client = direction == Direction.ClientToNode;
            if (client && index >= FirstSealed)
            {
                Interlocked.Increment(ref clientRecords);
            }

            bool afterJob = !client && index >= FirstSealed && Volatile.Read(ref clientRecords) >= 2;
            switch (name)
            {
                case "alter the client's first sealed record" when client && index == FirstSealed:
                    done = 1;
                    return Flip(frame, 20); // a ciphertext byte (the tag is the last 16)
                case "alter a node record after the job was sent" when afterJob:
                    done = 1;
                    return Flip(frame, 17);
                case "replay the client's first sealed record" when client && index == FirstSealed:
                    done = 1;
                    return [frame, frame];
                case "replay a node record after the job was sent" when afterJob:
                    done = 1;
                    return [frame, frame];
                case "reorder the client's first two sealed records" when client && index == FirstSealed:
                    held = frame;
                    return [];
                case "reorder the client's first two sealed records" when client && index == FirstSealed + 1:
                    done = 1;
                    return [frame, held!];
                default:
                    return [frame];
            }
        };
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public async Task TamperedFrames_CloseTheConnection_AndTheJobStillReturnsTheRightResultOnce(string plan)
    {
        using TestNode node = await StartNodeAsync();
        await using var proxy = new TamperingProxy(node.Port, Plan(plan));
        await using var server = new JobServer(0, ppservers: [proxy.Address], secret: Secret);
        int callbacks = 0;

        Job<int> job = server.Submit((int x) => x * 2, 3, callback: _ => Interlocked.Increment(ref callbacks));

        Assert.Equal(6, await job.Within());
        await Bounds.RunWithin(() => server.Wait());
        Assert.Equal(1, callbacks);
        Assert.Equal(proxy.Address, job.Node);
        await proxy.FirstClosed.Task.WaitAsync(Bounds.Hang); // the tampered connection did not survive
        if (plan.Contains("client", StringComparison.Ordinal))
        {
            // The node saw it; the client reconnected (through the now honest proxy) to get its job done.
            string line = await node.Process.WaitForErrorLineAsync(l => l.Contains("failed authentication", StringComparison.Ordinal), "the node refusing the tampered record");
            Assert.Contains("altered, replayed or out of order", line);
            Assert.True(proxy.Connections >= 2);
        }
    }
}
