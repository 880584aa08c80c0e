using System.Buffers;
using MessagePack;

namespace PPSharp.Protocol;

/// <summary>A frame whose payload is fixed bytes (or nothing): pings, leaving notices, errors, small replies.</summary>
internal sealed class Signal(MessageType type, ReadOnlyMemory<byte> payload) : IOutgoingFrame
{
    public static readonly Signal Ping = new(MessageType.Ping, default);
    public static readonly Signal Pong = new(MessageType.Pong, default);
    public static readonly Signal Leaving = new(MessageType.Leaving, default);

    public MessageType Type => type;

    public void WritePayload(IBufferWriter<byte> writer) => PooledBufferWriter.Write(writer, payload.Span);

    /// <summary>A frame whose payload is MessagePack values written by <paramref name="write"/>.</summary>
    public static Signal Of(MessageType type, WriteValues write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return new Signal(type, buffer.WrittenMemory);
    }

    public static Signal Error(string message) => Of(MessageType.Error, (ref MessagePackWriter w) => w.Write(message));

    public delegate void WriteValues(ref MessagePackWriter writer);
}
