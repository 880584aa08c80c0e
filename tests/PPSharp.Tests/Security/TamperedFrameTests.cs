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
    /// <summary>Frames 0 and 1 of each direction are the hello and the proof; from 2 on, they are sealed.</summary>
    private const int FirstSealed = 2;

    private static IEnumerable<byte[]> Flip(byte[] frame, int offsetFromEnd)
    {
        byte[] altered = (byte[])frame.Clone();
        altered[^offsetFromEnd] ^= 0x01;
        return [altered];
    }

    public static TheoryData<string> Plans => ["alter a RunJob", "alter a result", "replay a RunJob", "replay a result", "reorder the client's frames"];

    private static Func<Direction, int, MessageType, byte[], IEnumerable<byte[]>> Plan(string name)
    {
        bool done = false;
        byte[]? held = null;
        return (direction, index, type, frame) =>
        {
            if (done)
            {
                return [frame];
            }

            switch (name)
            {
                case "alter a RunJob" when direction == Direction.ClientToNode && type == MessageType.RunJob:
                    done = true;
                    return Flip(frame, 20); // a ciphertext byte (the tag is the last 16)
                case "alter a result" when direction == Direction.NodeToClient && type == MessageType.JobSucceeded:
                    done = true;
                    return Flip(frame, 17);
                case "replay a RunJob" when direction == Direction.ClientToNode && type == MessageType.RunJob:
                    done = true;
                    return [frame, frame];
                case "replay a result" when direction == Direction.NodeToClient && type == MessageType.JobSucceeded:
                    done = true;
                    return [frame, frame];
                case "reorder the client's frames" when direction == Direction.ClientToNode && index == FirstSealed:
                    held = frame;
                    return [];
                case "reorder the client's frames" when direction == Direction.ClientToNode && index == FirstSealed + 1:
                    done = true;
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
        if (plan is "alter a RunJob" or "replay a RunJob" or "reorder the client's frames")
        {
            // The node saw it; the client reconnected (through the now honest proxy) to get its job done.
            string line = await node.Process.WaitForErrorLineAsync(l => l.Contains("failed authentication", StringComparison.Ordinal), "the node refusing the tampered frame");
            Assert.Contains("altered, replayed or out of order", line);
            Assert.True(proxy.Connections >= 2);
        }
    }
}
