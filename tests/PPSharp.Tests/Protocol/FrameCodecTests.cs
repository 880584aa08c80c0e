using System.Buffers;
using System.IO.Pipelines;
using PPSharp.Protocol;

namespace PPSharp.Tests.Protocol;

/// <summary>In-memory tests of framing: no processes, no sockets.</summary>
public sealed class FrameCodecUnitTests
{
    private static ReadOnlySequence<byte> Encode(params IOutgoingFrame[] frames)
    {
        var pipe = new Pipe();
        var counter = new FrameCodec.CountingWriter(pipe.Writer);
        foreach (IOutgoingFrame frame in frames)
        {
            FrameCodec.Write(counter, frame, int.MaxValue);
        }

        pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
        pipe.Writer.Complete();
        ReadResult read = pipe.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
        return new ReadOnlySequence<byte>(read.Buffer.ToArray());
    }

    [Fact]
    public void Write_PutsLittleEndianLengthThenTypeThenPayload()
    {
        byte[] bytes = Encode(new RawFrame(MessageType.RunJob, [7, 8, 9])).ToArray();

        Assert.Equal(new byte[] { 3, 0, 0, 0, (byte)MessageType.RunJob, 7, 8, 9 }, bytes);
    }

    [Fact]
    public void TryRead_ReturnsEachFrameInOrder_WhenSeveralAreBuffered()
    {
        ReadOnlySequence<byte> buffer = Encode(new RawFrame(MessageType.Hello, [1]), new RawFrame(MessageType.Shutdown, []), new RawFrame(MessageType.JobFailed, [2, 3]));

        Assert.True(FrameCodec.TryRead(ref buffer, 1024, out MessageType first, out ReadOnlySequence<byte> p1));
        Assert.True(FrameCodec.TryRead(ref buffer, 1024, out MessageType second, out ReadOnlySequence<byte> p2));
        Assert.True(FrameCodec.TryRead(ref buffer, 1024, out MessageType third, out ReadOnlySequence<byte> p3));
        Assert.False(FrameCodec.TryRead(ref buffer, 1024, out _, out _));

        Assert.Equal([MessageType.Hello, MessageType.Shutdown, MessageType.JobFailed], new[] { first, second, third });
        Assert.Equal(new byte[] { 1 }, p1.ToArray());
        Assert.Empty(p2.ToArray());
        Assert.Equal(new byte[] { 2, 3 }, p3.ToArray());
    }

    [Fact]
    public void TryRead_WaitsForMoreBytes_WhenTheFrameIsIncomplete()
    {
        byte[] whole = Encode(new RawFrame(MessageType.RunJob, [1, 2, 3, 4])).ToArray();
        for (int cut = 0; cut < whole.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(whole.AsMemory(0, cut));
            Assert.False(FrameCodec.TryRead(ref partial, 1024, out _, out _));
            Assert.Equal(cut, partial.Length);
        }
    }

    [Fact]
    public void TryRead_Throws_WhenTheAnnouncedLengthExceedsTheLimit()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 1, (byte)MessageType.RunJob });

        var error = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, 1024, out _, out _));
        Assert.Contains("limit", error.Message);
    }

    [Fact]
    public void TryRead_Throws_WhenTheTypeIsUnknown()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, 200 });

        Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, 1024, out _, out _));
    }

    [Fact]
    public void Write_Throws_WhenThePayloadExceedsTheLimit()
    {
        var pipe = new Pipe();
        var counter = new FrameCodec.CountingWriter(pipe.Writer);

        Assert.Throws<ProtocolException>(() => FrameCodec.Write(counter, new RawFrame(MessageType.RunJob, new byte[2048]), 1024));
    }
}
