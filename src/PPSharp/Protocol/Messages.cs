using System.Buffers;
using MessagePack;

namespace PPSharp.Protocol;

/// <summary>
/// The payloads of the small fixed messages, as MessagePack values in the order listed on each type. RunJob and
/// DefineFunction are written by <c>WorkItem</c> and <c>FunctionDefinition</c>, which already hold their bytes.
/// </summary>
internal static class Messages
{
    /// <summary>Bumped on any incompatible change of frames or payloads; both ends check it in the first frame.</summary>
    public const int ProtocolVersion = 2;

    /// <summary>
    /// This build of PPSharp (its module version id). A local worker must run the very same build as its job server;
    /// comparing them turns a mixed installation into a clear error instead of misread frames.
    /// </summary>
    public static readonly string BuildId = typeof(Messages).Module.ModuleVersionId.ToString("N");

    /// <summary>Hello: <c>protocol version, token, process id, build id</c>.</summary>
    public sealed record Hello(int Version, string Token, int ProcessId, string Build) : IOutgoingFrame
    {
        public MessageType Type => MessageType.Hello;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write(Version);
            writer.Write(Token);
            writer.Write(ProcessId);
            writer.Write(Build);
            writer.Flush();
        }

        public static Hello Read(ReadOnlySequence<byte> payload)
        {
            var reader = new MessagePackReader(payload);
            return new Hello(reader.ReadInt32(), reader.ReadString() ?? string.Empty, reader.ReadInt32(), reader.ReadString() ?? string.Empty);
        }
    }

    /// <summary>JobSucceeded: <c>job id, elapsed ticks, output or nil</c>, then the result value as is.</summary>
    public sealed class JobSucceeded(long jobId, long elapsedTicks, string? output, ReadOnlyMemory<byte> result) : IOutgoingFrame
    {
        public MessageType Type => MessageType.JobSucceeded;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)jobId);
            writer.Write(elapsedTicks);
            writer.Write(output);
            writer.Flush();
            buffer.Write(result.Span);
        }
    }

    /// <summary>JobFailed: <c>job id, elapsed ticks, output or nil, exception type, message, stack trace</c>, then the exception itself (bin or nil, see <c>ExceptionPayload</c>).</summary>
    public sealed class JobFailed(long jobId, long elapsedTicks, string? output, string errorType, string errorMessage, string? stackTrace, byte[]? exception = null) : IOutgoingFrame
    {
        public MessageType Type => MessageType.JobFailed;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)jobId);
            writer.Write(elapsedTicks);
            writer.Write(output);
            writer.Write(errorType);
            writer.Write(errorMessage);
            writer.Write(stackTrace);
            writer.Write(exception);
            writer.Flush();
        }
    }

    /// <summary>Reads a JobSucceeded or JobFailed payload into the job id and its outcome on <paramref name="node"/>.</summary>
    public static (long JobId, PPSharp.Scheduling.WorkOutcome Outcome) ReadResult(MessageType type, ReadOnlySequence<byte> payload, string node)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            long id = (long)reader.ReadUInt64();
            var elapsed = TimeSpan.FromTicks(reader.ReadInt64());
            string? output = reader.ReadString();
            return (id, type == MessageType.JobSucceeded
                ? new PPSharp.Scheduling.WorkOutcome(PPSharp.Scheduling.OutcomeKind.Succeeded, node, elapsed, output, Result: payload.Slice(reader.Position).ToArray())
                : new PPSharp.Scheduling.WorkOutcome(PPSharp.Scheduling.OutcomeKind.Failed, node, elapsed, output, ErrorType: reader.ReadString(), ErrorMessage: reader.ReadString(), ErrorStackTrace: reader.ReadString(), ErrorDetail: reader.End ? null : reader.ReadBytes()?.ToArray()));
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            throw new ProtocolException($"a malformed {type} payload: {ex.Message}");
        }
    }

    /// <summary>JobStarted: <c>job id</c>.</summary>
    public sealed class JobStarted(long jobId) : IOutgoingFrame
    {
        public MessageType Type => MessageType.JobStarted;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)jobId);
            writer.Flush();
        }

        public static long Read(ReadOnlySequence<byte> payload)
        {
            var reader = new MessagePackReader(payload);
            return (long)reader.ReadUInt64();
        }
    }

    /// <summary>Shutdown: empty.</summary>
    public sealed class Shutdown : IOutgoingFrame
    {
        public static readonly Shutdown Instance = new();

        public MessageType Type => MessageType.Shutdown;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
        }
    }
}
