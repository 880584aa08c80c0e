using System.Buffers;
using System.Buffers.Binary;

namespace PPSharp.Protocol;

/// <summary>
/// Turns bytes into frames and frames into bytes. Knows nothing of what a payload means (that is <see cref="Messages"/>).
/// </summary>
/// <remarks>
/// Frame layout, all integers little-endian:
/// <code>
/// offset 0  uint32  payload length N (not counting this 5-byte header)
/// offset 4  uint8   message type (<see cref="MessageType"/>)
/// offset 5  N bytes payload (MessagePack values, see docs/protocol.md)
/// </code>
/// </remarks>
internal static class FrameCodec
{
    public const int HeaderSize = 5;

    /// <summary>
    /// Writes one frame into <paramref name="writer"/>: reserves the header, lets <paramref name="frame"/> write its payload
    /// straight into the writer (no intermediate copy), then fills the length in.
    /// </summary>
    /// <remarks>
    /// Filling the header after the payload relies on the writer not handing reserved memory to its reader before a flush,
    /// which holds for <see cref="System.IO.Pipelines.PipeWriter"/>; callers flush only after whole frames.
    /// </remarks>
    public static void Write(CountingWriter writer, IOutgoingFrame frame, int maxPayload)
    {
        Memory<byte> header = writer.GetMemory(HeaderSize);
        writer.Advance(HeaderSize);
        long start = writer.Written;
        frame.WritePayload(writer);
        long length = writer.Written - start;
        if (length > maxPayload)
        {
            throw new ProtocolException($"A {frame.Type} frame of {length} bytes exceeds the limit of {maxPayload} bytes.");
        }

        WriteHeader(header.Span, frame.Type, (int)length);
    }

    /// <summary>
    /// Appends one whole frame to <paramref name="buffer"/>: header, then payload. A payload over
    /// <paramref name="maxPayload"/> is taken back out, leaving the buffer as it was, and false is returned.
    /// </summary>
    public static bool TryAppend(PooledBufferWriter buffer, IOutgoingFrame frame, int maxPayload, out int length)
    {
        int start = buffer.WrittenCount;
        buffer.GetSpan(HeaderSize);
        buffer.Advance(HeaderSize);
        frame.WritePayload(buffer);
        length = buffer.WrittenCount - start - HeaderSize;
        if (length > maxPayload)
        {
            buffer.Truncate(start);
            return false;
        }

        // Filled in last, in place: the array may have been replaced while the payload was written.
        WriteHeader(buffer.Written.Slice(start, HeaderSize), frame.Type, length);
        return true;
    }

    /// <summary>Fills in a frame's 5-byte header.</summary>
    public static void WriteHeader(Span<byte> header, MessageType type, int length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
        header[4] = (byte)type;
    }

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/> if it holds one.
    /// </summary>
    /// <exception cref="ProtocolException">The announced length exceeds <paramref name="maxPayload"/> or the type is unknown.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxPayload, out MessageType type, out ReadOnlySequence<byte> payload)
    {
        type = default;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > (uint)maxPayload)
        {
            throw new ProtocolException($"The peer announced a frame of {length} bytes; the limit is {maxPayload} bytes.");
        }

        type = (MessageType)header[4];
        if (!Enum.IsDefined(type))
        {
            throw new ProtocolException($"The peer sent a frame of unknown type {header[4]}.");
        }

        if (buffer.Length - HeaderSize < length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Passes writes through and counts them, so the header can carry the payload's length. One per connection.</summary>
    internal sealed class CountingWriter(IBufferWriter<byte> inner) : IBufferWriter<byte>
    {
        public long Written { get; private set; }

        public void Advance(int count)
        {
            inner.Advance(count);
            Written += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }
}

/// <summary>Something that can be sent as one frame: a type and a payload written on demand by the write loop.</summary>
internal interface IOutgoingFrame
{
    MessageType Type { get; }

    /// <summary>
    /// About how many bytes the frame will take, for frames large enough to matter (results): counted in
    /// <see cref="FrameConnection.UnsentBytes"/> while queued. 0 for small frames.
    /// </summary>
    long SizeHint => 0;

    /// <summary>
    /// Called by <see cref="FrameConnection.Send"/> just before the frame is queued: <see cref="WritePayload"/> runs
    /// later, on the connection's write loop, at most once for each call (never if the connection closes first). A
    /// frame whose payload lies in a buffer that is reused keeps that buffer until then.
    /// </summary>
    void Queued()
    {
    }

    void WritePayload(IBufferWriter<byte> writer);
}
