using System.Buffers;
using BenchmarkDotNet.Attributes;
using PPSharp.Protocol;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Bench.Micro;

/// <summary>
/// Framing (<c>PPSharp.Protocol.FrameCodec</c>, <c>Messages</c>): writing RunJob frames into a buffer, taking frames off
/// a received buffer, and writing and reading the JobSucceeded frame of a tiny job. Per frame.
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private const int Frames = 1_000;

    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private FrameCodec.CountingWriter _counter = null!;
    private BenchItem[] _items = null!;
    private ReadOnlySequence<byte> _received;
    private byte[] _resultPayload = null!;
    private readonly ReadOnlyMemory<byte> _result = new byte[] { 42 };

    [GlobalSetup]
    public void Setup()
    {
        _counter = new FrameCodec.CountingWriter(_buffer);
        (FunctionDefinition function, byte[] body) = TinyJob();
        _items = [.. Enumerable.Range(0, Frames).Select(i => new BenchItem(i + 1, function, body))];
        foreach (BenchItem item in _items)
        {
            FrameCodec.Write(_counter, item, int.MaxValue);
        }

        _received = new ReadOnlySequence<byte>(_buffer.WrittenMemory.ToArray());
        var payload = new ArrayBufferWriter<byte>();
        new Messages.JobSucceeded(1, 10, null, _result).WritePayload(payload);
        _resultPayload = payload.WrittenSpan.ToArray();
    }

    /// <summary>The definition and body of the suite's tiny job, <c>Identity(42)</c>, as Submit builds them.</summary>
    internal static (FunctionDefinition Function, byte[] Body) TinyJob()
    {
        FunctionInfo info = new FunctionCatalog().Get(Suite.Workloads.Identity);
        return (info.Definition, JobPayload.WriteBody(info, Suite.Workloads.Identity.Target, new JobArguments<int>(42)).ToArray());
    }

    /// <summary>The write loop's work per RunJob frame: header, job id, function id, flag, body copy.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long WriteRunJobFrame()
    {
        _buffer.ResetWrittenCount();
        foreach (BenchItem item in _items)
        {
            FrameCodec.Write(_counter, item, int.MaxValue);
        }

        return _counter.Written;
    }

    /// <summary>The read loop's work per frame: find it in the received bytes (no payload decoding).</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long ReadFrame()
    {
        ReadOnlySequence<byte> buffer = _received;
        long total = 0;
        while (FrameCodec.TryRead(ref buffer, int.MaxValue, out MessageType _, out ReadOnlySequence<byte> payload))
        {
            total += payload.Length;
        }

        return total;
    }

    /// <summary>A worker's answer to a tiny job, written as a frame (the message object is allocated per job, as in the worker).</summary>
    [Benchmark]
    public long WriteJobSucceededFrame()
    {
        _buffer.ResetWrittenCount();
        FrameCodec.Write(_counter, new Messages.JobSucceeded(1, 10, null, _result), int.MaxValue);
        return _counter.Written;
    }

    /// <summary>The caller's decoding of that answer into a WorkOutcome (the read loop's work per result).</summary>
    [Benchmark]
    public int ReadJobSucceeded()
    {
        (long id, WorkOutcome outcome) = Messages.ReadResult(MessageType.JobSucceeded, new ReadOnlySequence<byte>(_resultPayload), "local");
        return (int)id + outcome.Result!.Length;
    }
}
