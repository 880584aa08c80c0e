using System.Buffers;
using System.Collections.Concurrent;
using MessagePack;
using PPSharp.Serialization;

namespace PPSharp.Execution;

/// <summary>
/// The worker's cache of functions by id. A definition is stored as received and loaded at first use, on the thread
/// that runs jobs; a definition that fails to load fails each job that uses it, with the reason, and nothing else.
/// </summary>
internal sealed class FunctionTable(TypeLoader types)
{
    private readonly ConcurrentDictionary<int, Lazy<LoadedFunction>> _functions = new();

    /// <summary>Stores a DefineFunction payload. Called on the read loop: cheap, no loading here.</summary>
    public void Define(ReadOnlySequence<byte> payload)
    {
        byte[] copy = payload.ToArray();
        var reader = new MessagePackReader(copy);
        if (reader.ReadArrayHeader() != 8)
        {
            throw new PPSharp.Protocol.ProtocolException("A DefineFunction payload must be an array of 8.");
        }

        int id = reader.ReadInt32();
        _functions[id] = new Lazy<LoadedFunction>(() =>
        {
            var body = new MessagePackReader(copy);
            body.ReadArrayHeader();
            body.ReadInt32();
            return LoadedFunction.Load(ref body, types);
        });
    }

    public LoadedFunction Get(int id) =>
        _functions.TryGetValue(id, out Lazy<LoadedFunction>? function)
            ? function.Value
            : throw new PPSharp.Protocol.ProtocolException($"Job for function {id}, which was never defined on this channel.");
}
