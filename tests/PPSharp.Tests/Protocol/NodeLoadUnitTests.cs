using System.Buffers;
using MessagePack;
using PPSharp.Protocol;

namespace PPSharp.Tests.Protocol;

/// <summary>The NodeLoad message (a node's answer to a ping) in memory: its round trip, its bound, and malformed input.</summary>
public sealed class NodeLoadUnitTests
{
    private static ReadOnlySequence<byte> PayloadOf(IOutgoingFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>();
        frame.WritePayload(buffer);
        return new ReadOnlySequence<byte>(buffer.WrittenMemory);
    }

    private static byte[] Written(Signal.WriteValues write) => PayloadOf(Signal.Of(MessageType.NodeLoad, write)).ToArray();

    [Fact]
    public void NodeLoad_RoundTrips_EveryField()
    {
        var load = new Messages.NodeLoad(123_456_789_012, 3, [
            new Messages.WorkerLoad(4242, 85L * 1024 * 1024 * 1024, TimeSpan.FromHours(30).Ticks, Busy: true),
            new Messages.WorkerLoad(int.MaxValue, 0, 0, Busy: false),
        ]);

        Messages.NodeLoad read = Messages.NodeLoad.Read(PayloadOf(load));

        Assert.Equal(MessageType.NodeLoad, load.Type);
        Assert.Equal(load.SampledAtMilliseconds, read.SampledAtMilliseconds);
        Assert.Equal(3, read.WorkerCount);
        Assert.Equal(load.Workers, read.Workers);
    }

    [Fact]
    public void NodeLoad_OfAThousandWorkers_ListsTheFirst256_AndStaysSmall()
    {
        Messages.WorkerLoad[] workers = [.. Enumerable.Range(1, 1000).Select(pid => new Messages.WorkerLoad(pid, long.MaxValue, long.MaxValue, true))];

        ReadOnlySequence<byte> payload = PayloadOf(new Messages.NodeLoad(1, workers.Length, workers));
        Messages.NodeLoad read = Messages.NodeLoad.Read(payload);

        Assert.Equal(Messages.NodeLoad.MaxWorkers, read.Workers.Count);
        Assert.Equal(workers[..Messages.NodeLoad.MaxWorkers], read.Workers);
        Assert.Equal(1000, read.WorkerCount);
        Assert.True(payload.Length < 7 * 1024, $"{payload.Length} bytes");
    }

    private static byte[] CutShort(byte[] payload) => payload[..^1];

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "empty", [] },
        { "cut short", CutShort(PayloadOf(new Messages.NodeLoad(5, 1, [new Messages.WorkerLoad(10, 20, 30, false)])).ToArray()) },
        { "a string for the time", Written((ref MessagePackWriter w) => { w.Write("soon"); w.Write(1); w.WriteArrayHeader(0); }) },
        { "more listed than the cap", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1000); w.WriteArrayHeader(Messages.NodeLoad.MaxWorkers + 1); }) },
        { "more listed than the node has", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1); w.WriteArrayHeader(2); }) },
        { "an entry of 3 values", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1); w.WriteArrayHeader(1); w.WriteArrayHeader(3); w.Write(1); w.Write(2L); w.Write(3L); }) },
        { "a negative resident size", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1); w.WriteArrayHeader(1); w.WriteArrayHeader(4); w.Write(7); w.Write(-1L); w.Write(3L); w.Write(true); }) },
        { "a pid of 0", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1); w.WriteArrayHeader(1); w.WriteArrayHeader(4); w.Write(0); w.Write(1L); w.Write(3L); w.Write(true); }) },
        { "a pid past int", Written((ref MessagePackWriter w) => { w.Write(1L); w.Write(1); w.WriteArrayHeader(1); w.WriteArrayHeader(4); w.Write(1L << 40); w.Write(1L); w.Write(3L); w.Write(true); }) },
        { "an array header announcing 2^32-1 workers", [0x01, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void NodeLoad_Malformed_IsRefusedWithProtocolException(string what, byte[] payload)
    {
        Exception? error = Record.Exception(() => Messages.NodeLoad.Read(new ReadOnlySequence<byte>(payload)));

        Assert.True(error is ProtocolException, $"{what}: {error?.GetType().Name ?? "no exception"} {error?.Message}");
    }
}
