using System.Buffers;
using BenchmarkDotNet.Attributes;
using PPSharp.Protocol;

namespace PPSharp.Bench.Micro;

/// <summary>
/// What sealing costs a node connection (<c>PPSharp.Protocol.FrameProtection</c>, AES-256-GCM): writing a frame
/// sealed (as a record of its own, the worst case: one frame per flush) against writing it plain, and sealing then
/// opening it, for a tiny RunJob and for an 8 MiB payload; and 64 tiny frames sealed and opened as one record, as a
/// write loop that drains a burst does.
/// </summary>
[MemoryDiagnoser]
public class SealingBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(9 * 1024 * 1024);
    private FrameCodec.CountingWriter _counter = null!;
    private FrameSealer _sealer = null!;
    private FrameSealer _peerSealer = null!;
    private FrameOpener _opener = null!;
    private IOutgoingFrame _frame = null!;
    private readonly byte[] _key = new byte[FrameProtection.KeySize];

    [Params(16, 8 * 1024 * 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _counter = new FrameCodec.CountingWriter(_buffer);
        _sealer = new FrameSealer(_key);
        _peerSealer = new FrameSealer(_key);
        _opener = new FrameOpener(_key);
        byte[] payload = new byte[PayloadBytes];
        new Random(1).NextBytes(payload);
        _frame = new Signal(MessageType.RunJob, payload);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sealer.Dispose();
        _peerSealer.Dispose();
        _opener.Dispose();
    }

    /// <summary>The write loop's work per frame without sealing (local workers, and nodes before this change).</summary>
    [Benchmark(Baseline = true)]
    public int WritePlain()
    {
        _buffer.ResetWrittenCount();
        FrameCodec.Write(_counter, _frame, int.MaxValue);
        return _buffer.WrittenCount;
    }

    /// <summary>The write loop's work per frame on a node connection: staged, encrypted into the output.</summary>
    [Benchmark]
    public int WriteSealed()
    {
        _buffer.ResetWrittenCount();
        _sealer.Add(_frame, int.MaxValue);
        _sealer.Seal(_buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>Sealing on one side and opening on the other, as a frame crossing a node connection costs in all.</summary>
    [Benchmark]
    public int SealAndOpen() => SealAndOpen(1);

    /// <summary>64 frames sealed and opened as one record; per frame.</summary>
    [Benchmark(OperationsPerInvoke = 64)]
    public int SealAndOpen64PerRecord() => PayloadBytes > 1024 ? 0 : SealAndOpen(64);

    private int SealAndOpen(int frames)
    {
        _buffer.ResetWrittenCount();
        for (int i = 0; i < frames; i++)
        {
            _peerSealer.Add(_frame, int.MaxValue);
        }

        _peerSealer.Seal(_buffer);
        var received = new ReadOnlySequence<byte>(_buffer.WrittenMemory);
        FrameOpener.TryReadRecord(ref received, int.MaxValue, out ReadOnlySequence<byte> record);
        using FrameOpener.Opened opened = _opener.Open(record);
        ReadOnlySequence<byte> inner = opened.Payload;
        int count = 0;
        while (FrameCodec.TryRead(ref inner, int.MaxValue, out _, out _))
        {
            count++;
        }

        return count;
    }
}
