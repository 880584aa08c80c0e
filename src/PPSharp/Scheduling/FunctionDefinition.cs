using System.Buffers;
using PPSharp.Protocol;

namespace PPSharp.Scheduling;

/// <summary>
/// A function's description as it travels: an id, and the encoded description a worker needs to load it. Sent once per
/// channel, before the first job that uses it; later jobs name only the id (ppft's "transparent caching").
/// </summary>
internal sealed class FunctionDefinition(int id, byte[] payload) : IOutgoingFrame
{
    public int Id { get; } = id;

    /// <summary>The whole DefineFunction payload, id included (see <c>FunctionDescriptor</c> for its layout).</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    public MessageType Type => MessageType.DefineFunction;

    public void WritePayload(IBufferWriter<byte> writer) => writer.Write(Payload.Span);
}
