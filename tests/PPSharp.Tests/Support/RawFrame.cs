using System.Buffers;
using PPSharp.Protocol;

namespace PPSharp.Tests.Support;

/// <summary>A frame of a given type and fixed payload bytes, for the in-memory framing tests.</summary>
internal sealed class RawFrame(MessageType type, byte[] payload) : IOutgoingFrame
{
    public MessageType Type => type;

    public void WritePayload(IBufferWriter<byte> writer) => writer.Write(payload);
}
