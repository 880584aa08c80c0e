using System.Buffers;
using BenchmarkDotNet.Attributes;
using MessagePack;
using PPSharp.Execution;
using PPSharp.Serialization;

namespace PPSharp.Bench.Micro;

/// <summary>
/// Serialization of a job and of a result, on both sides: the caller's <c>FunctionCatalog</c> lookup and
/// <c>JobPayload.WriteBody</c> at Submit, the worker's run of a job from its body (read arguments, invoke, write the
/// result), and the caller's <c>JobPayload.ReadResult</c>; for the tiny int job and for the 8 MiB byte array.
/// </summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private readonly FunctionCatalog _catalog = new();
    private FunctionInfo _identity = null!;
    private FunctionInfo _echo = null!;
    private byte[] _big = null!;
    private byte[] _intResult = null!;
    private byte[] _bigResult = null!;
    private byte[] _intBody = null!;
    private byte[] _bigBody = null!;
    private readonly FunctionTable _worker = new();
    private readonly ArrayBufferWriter<byte> _results = new(256);

    [GlobalSetup]
    public void Setup()
    {
        _identity = _catalog.Get(Suite.Workloads.Identity);
        _echo = _catalog.Get(Suite.Workloads.EchoBytes);
        _big = new byte[8 << 20];
        Random.Shared.NextBytes(_big);
        _intResult = MessagePackSerializer.Serialize(42);
        _bigResult = MessagePackSerializer.Serialize(_big);
        _intBody = JobPayload.WriteBody(_identity, Suite.Workloads.Identity.Target, new JobArguments<int>(42)).ToArray();
        _bigBody = JobPayload.WriteBody(_echo, Suite.Workloads.EchoBytes.Target, new JobArguments<byte[]>(_big)).ToArray();
        _worker.Define(new ReadOnlySequence<byte>(_identity.Definition.Payload));
        _worker.Define(new ReadOnlySequence<byte>(_echo.Definition.Payload));
    }

    /// <summary>Submit's lookup of a known function (its description was built on the first Submit).</summary>
    [Benchmark]
    public int CatalogGet() => _catalog.Get(Suite.Workloads.Identity).Definition.Id;

    /// <summary>Submit's serialization of the tiny job: closure (none used) and one int, copied into its own array.</summary>
    [Benchmark]
    public ReadOnlyMemory<byte> WriteBodyInt() => JobPayload.WriteBody(_identity, Suite.Workloads.Identity.Target, new JobArguments<int>(42));

    /// <summary>The worker's run of the tiny job: read the closure and the int, invoke, write the int result.</summary>
    [Benchmark]
    public int WorkerRunInt()
    {
        _results.ResetWrittenCount();
        _worker.Get(_identity.Definition.Id).Run(new ReadOnlySequence<byte>(_intBody), _results);
        return _results.WrittenCount;
    }

    /// <summary>The caller's reading of the tiny job's result.</summary>
    [Benchmark]
    public int ReadResultInt() => JobPayload.ReadResult<int>(_intResult);

    /// <summary>Submit's serialization of an 8 MiB byte array argument; its array given back as a finished job's is.</summary>
    [Benchmark]
    public int WriteBody8MiB()
    {
        ReadOnlyMemory<byte> body = JobPayload.WriteBody(_echo, Suite.Workloads.EchoBytes.Target, new JobArguments<byte[]>(_big));
        PPSharp.Protocol.HeldArray.Release(body);
        return body.Length;
    }

    /// <summary>The worker's run of the 8 MiB echo: read the array, invoke, write it back.</summary>
    [Benchmark]
    public int WorkerRun8MiB()
    {
        _results.ResetWrittenCount();
        _worker.Get(_echo.Definition.Id).Run(new ReadOnlySequence<byte>(_bigBody), _results);
        return _results.WrittenCount;
    }

    /// <summary>The caller's reading of an 8 MiB byte array result.</summary>
    [Benchmark]
    public int ReadResult8MiB() => JobPayload.ReadResult<byte[]>(_bigResult).Length;
}
