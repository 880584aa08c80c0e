using System.Buffers;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using PPSharp.Protocol;

namespace PPSharp.Bench.Micro;

/// <summary>
/// Two <c>FrameConnection</c>s over a real Unix domain socket pair in this process (the local worker channel's
/// machinery: channel queue, write loop, pipelines, read loop), without any process boundary: a stream of RunJob
/// frames (per frame), and a ping-pong of one small frame each way (per round trip).
/// </summary>
[MemoryDiagnoser]
public class ConnectionBenchmarks
{
    private const int Frames = 10_000;

    private string _directory = null!;
    private FrameConnection _a = null!;
    private FrameConnection _b = null!;
    private BenchItem[] _items = null!;
    private int _target;
    private int _received;
    private readonly SemaphoreSlim _done = new(0);
    private bool _echo;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("ppsharp-micro-").FullName;
        string path = Path.Combine(_directory, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        Socket server = listener.Accept();
        (PPSharp.Scheduling.FunctionDefinition function, byte[] body) = FramingBenchmarks.TinyJob();
        _items = [.. Enumerable.Range(0, Frames).Select(i => new BenchItem(i + 1, function, body))];
        _a = new FrameConnection(new NetworkStream(client, ownsSocket: true), int.MaxValue, (_, _) => _done.Release());
        _b = new FrameConnection(new NetworkStream(server, ownsSocket: true), int.MaxValue, OnFrameAtB);
        _a.Start();
        _b.Start();
    }

    private void OnFrameAtB(MessageType type, ReadOnlySequence<byte> payload)
    {
        if (_echo)
        {
            _b.Send(_items[0]);
        }
        else if (++_received == _target)
        {
            _done.Release();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _b.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _done.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>10,000 RunJob frames sent from one connection and read by the other: cost per frame, both sides.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public void StreamRunJobFrames()
    {
        _echo = false;
        _received = 0;
        _target = Frames;
        foreach (BenchItem item in _items)
        {
            _a.Send(item);
        }

        _done.Wait();
    }

    /// <summary>One frame there and one back, through both connections' loops: the in-process async round trip.</summary>
    [Benchmark]
    public void PingPong()
    {
        _echo = true;
        _a.Send(_items[0]);
        _done.Wait();
    }
}
