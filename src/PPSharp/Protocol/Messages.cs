using System.Buffers;
using MessagePack;

namespace PPSharp.Protocol;

/// <summary>
/// Every job message, one definition each, with its read and its write in one place: the client, the node and the
/// worker all use these, so a payload is never parsed inline anywhere else. Payloads are MessagePack values in the order
/// listed on each type. DefineFunction is written by <c>FunctionDefinition</c>, which already holds its bytes.
/// </summary>
internal static class Messages
{
    /// <summary>Bumped on any incompatible change of frames or payloads; both ends check it in the first frame.</summary>
    public const int ProtocolVersion = 5;

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

    /// <summary>What a RunJob frame asks of the worker besides running the body.</summary>
    [Flags]
    public enum RunFlags
    {
        /// <summary>Nothing more.</summary>
        None = 0,

        /// <summary>Send JobStarted (flushed) before running it, so a crash is blamed on the right job.</summary>
        AcknowledgeStart = 1,

        /// <summary>
        /// The client's worker initializer (its id is negative): a node keeps it and runs it on each of its workers
        /// before that client's first job there; a worker runs it like a job.
        /// </summary>
        Initializer = 2,
    }

    /// <summary>
    /// RunJob's header: <c>job id (uint64), function id, flags, time limit in ms (0: none), chunk size (0: one call),
    /// trace context (W3C traceparent string, or nil)</c>, then the body as is: the target, then the arguments (for a chunk: the target, then each item's arguments).
    /// </summary>
    /// <remarks>
    /// The client writes it; a node reads it and writes its own (its job id) in front of the same body bytes; the worker
    /// reads it. The body is never decoded on the way.
    /// </remarks>
    public readonly record struct RunJob(long JobId, int FunctionId, RunFlags Flags, long TimeoutMilliseconds, int ChunkSize, string? TraceParent = null)
    {
        public void Write(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)JobId);
            writer.Write(FunctionId);
            writer.Write((int)Flags);
            writer.Write(TimeoutMilliseconds);
            writer.Write(ChunkSize);
            writer.Write(TraceParent);
            writer.Flush();
        }

        /// <summary>Reads the header; <paramref name="body"/> is what follows it.</summary>
        public static RunJob Read(ReadOnlySequence<byte> payload, out ReadOnlySequence<byte> body)
        {
            try
            {
                var reader = new MessagePackReader(payload);
                var header = new RunJob((long)reader.ReadUInt64(), reader.ReadInt32(), (RunFlags)reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadString());
                if (header.TimeoutMilliseconds < 0 || header.ChunkSize < 0)
                {
                    throw new ProtocolException("a RunJob with a negative time limit or chunk size.");
                }

                body = payload.Slice(reader.Position);
                return header;
            }
            catch (Exception ex) when (Malformed.Is(ex))
            {
                throw new ProtocolException($"a malformed RunJob payload: {ex.Message}");
            }
        }
    }

    /// <summary>JobSucceeded: <c>job id, elapsed ticks, output or nil</c>, then the result value as is.</summary>
    /// <param name="jobId">The job's id on the receiving side.</param>
    /// <param name="elapsedTicks">How long the function ran.</param>
    /// <param name="output">What the job wrote to its console, if captured.</param>
    /// <param name="result">The serialized result, sent as is.</param>
    /// <param name="giveBackResult">
    /// <paramref name="result"/> is a <see cref="LargeArrays.Copy"/> held by this frame alone (a node relaying a
    /// worker's answer): given back once written, which happens at most once per frame.
    /// </param>
    public sealed class JobSucceeded(long jobId, long elapsedTicks, string? output, ReadOnlyMemory<byte> result, bool giveBackResult = false) : IOutgoingFrame
    {
        public MessageType Type => MessageType.JobSucceeded;

        public long SizeHint => result.Length + (2L * (output?.Length ?? 0));

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)jobId);
            writer.Write(elapsedTicks);
            writer.Write(output);
            writer.Flush();
            PooledBufferWriter.Write(buffer, result.Span);
            if (giveBackResult)
            {
                LargeArrays.Shared.Return(result);
            }
        }
    }

    /// <summary>JobFailed: <c>job id, elapsed ticks, output or nil, exception type, message, stack trace</c>, then the exception itself (bin or nil, see <c>ExceptionPayload</c>).</summary>
    public sealed class JobFailed(long jobId, long elapsedTicks, string? output, string errorType, string errorMessage, string? stackTrace, byte[]? exception = null) : IOutgoingFrame
    {
        public MessageType Type => MessageType.JobFailed;

        public long SizeHint => (exception?.Length ?? 0) + (2L * ((output?.Length ?? 0) + errorMessage.Length + (stackTrace?.Length ?? 0)));

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
                ? new PPSharp.Scheduling.WorkOutcome(PPSharp.Scheduling.OutcomeKind.Succeeded, node, elapsed, output, Result: LargeArrays.Shared.Copy(payload.Slice(reader.Position)))
                : new PPSharp.Scheduling.WorkOutcome(PPSharp.Scheduling.OutcomeKind.Failed, node, elapsed, output, ErrorType: reader.ReadString(), ErrorMessage: reader.ReadString(), ErrorStackTrace: reader.ReadString(), ErrorDetail: reader.End ? null : reader.ReadBytes()?.ToArray()));
        }
        catch (Exception ex) when (Malformed.Is(ex))
        {
            throw new ProtocolException($"a malformed {type} payload: {ex.Message}");
        }
    }

    /// <summary>The frames that name one job and nothing else (JobStarted, RevokeJob, JobRevoked): <c>job id (uint64)</c>.</summary>
    public sealed class JobSignal(MessageType type, long jobId) : IOutgoingFrame
    {
        public MessageType Type => type;

        public long JobId => jobId;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)jobId);
            writer.Flush();
        }

        public static long Read(ReadOnlySequence<byte> payload)
        {
            try
            {
                var reader = new MessagePackReader(payload);
                return (long)reader.ReadUInt64();
            }
            catch (Exception ex) when (Malformed.Is(ex))
            {
                throw new ProtocolException($"a malformed job signal: {ex.Message}");
            }
        }
    }

    /// <summary>CancelJob: <c>job id (uint64), grace period in ms</c> before the process running it is ended.</summary>
    public sealed record CancelJob(long JobId, long GraceMilliseconds) : IOutgoingFrame
    {
        public MessageType Type => MessageType.CancelJob;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write((ulong)JobId);
            writer.Write(GraceMilliseconds);
            writer.Flush();
        }

        public static CancelJob Read(ReadOnlySequence<byte> payload)
        {
            try
            {
                var reader = new MessagePackReader(payload);
                var cancel = new CancelJob((long)reader.ReadUInt64(), reader.ReadInt64());
                return cancel.GraceMilliseconds < 0 ? throw new ProtocolException("a CancelJob with a negative grace period.") : cancel;
            }
            catch (Exception ex) when (Malformed.Is(ex))
            {
                throw new ProtocolException($"a malformed CancelJob payload: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// NodeLoad, a node's answer to the client's Ping: <c>sampled at (int64, the node's monotonic clock in ms), worker
    /// count (int), array of at most <see cref="MaxWorkers"/> entries, each an array of 4: process id (int), resident
    /// bytes (int64), total CPU time in ticks of 100 ns (int64), busy (bool)</c>.
    /// </summary>
    /// <remarks>
    /// What the node's worker processes use, for the client's dashboard: CPU use is the difference of
    /// <see cref="WorkerLoad.CpuTicks"/> between two samples over the difference of <see cref="SampledAtMilliseconds"/>.
    /// A node with more workers than <see cref="MaxWorkers"/> lists the first ones by process id, and says how many it
    /// has in <see cref="WorkerCount"/>; the frame stays under about 7 KB whatever the node's size.
    /// </remarks>
    /// <param name="SampledAtMilliseconds">When the node read it, on the node's monotonic clock (only differences mean anything).</param>
    /// <param name="WorkerCount">The node's worker processes, listed or not.</param>
    /// <param name="Workers">At most <see cref="MaxWorkers"/> of them.</param>
    public sealed record NodeLoad(long SampledAtMilliseconds, int WorkerCount, IReadOnlyList<WorkerLoad> Workers) : IOutgoingFrame
    {
        /// <summary>The most workers one NodeLoad lists (about 25 bytes each).</summary>
        public const int MaxWorkers = 256;

        public MessageType Type => MessageType.NodeLoad;

        public void WritePayload(IBufferWriter<byte> buffer)
        {
            var writer = new MessagePackWriter(buffer);
            writer.Write(SampledAtMilliseconds);
            writer.Write(WorkerCount);
            int count = Math.Min(Workers.Count, MaxWorkers);
            writer.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                WorkerLoad worker = Workers[i];
                writer.WriteArrayHeader(4);
                writer.Write(worker.ProcessId);
                writer.Write(worker.ResidentBytes);
                writer.Write(worker.CpuTicks);
                writer.Write(worker.Busy);
            }

            writer.Flush();
        }

        public static NodeLoad Read(ReadOnlySequence<byte> payload)
        {
            try
            {
                var reader = new MessagePackReader(payload);
                long sampledAt = reader.ReadInt64();
                int workerCount = reader.ReadInt32();
                int count = reader.ReadArrayHeader();
                if (count > MaxWorkers || workerCount < count)
                {
                    throw new ProtocolException($"a NodeLoad listing {count} workers of {workerCount} (at most {MaxWorkers}).");
                }

                var workers = new WorkerLoad[count];
                for (int i = 0; i < count; i++)
                {
                    if (reader.ReadArrayHeader() != 4)
                    {
                        throw new ProtocolException("a NodeLoad worker entry that is not [pid, resident bytes, CPU ticks, busy].");
                    }

                    workers[i] = new WorkerLoad(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadBoolean());
                    if (workers[i].ProcessId <= 0 || workers[i].ResidentBytes < 0 || workers[i].CpuTicks < 0)
                    {
                        throw new ProtocolException($"a NodeLoad worker entry with a negative or zero value: {workers[i]}.");
                    }
                }

                return new NodeLoad(sampledAt, workerCount, workers);
            }
            catch (Exception ex) when (Malformed.Is(ex))
            {
                throw new ProtocolException($"a malformed NodeLoad payload: {ex.Message}");
            }
        }
    }

    /// <summary>One worker process of a node, as <see cref="NodeLoad"/> carries it.</summary>
    /// <param name="ProcessId">Its process id on the node's machine.</param>
    /// <param name="ResidentBytes">Its resident memory (working set), in bytes.</param>
    /// <param name="CpuTicks">Its total CPU time (user and system) so far, in ticks of 100 ns.</param>
    /// <param name="Busy">Whether it holds a job (running, or held ahead of one).</param>
    public readonly record struct WorkerLoad(int ProcessId, long ResidentBytes, long CpuTicks, bool Busy);

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
