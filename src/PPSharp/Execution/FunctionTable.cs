using System.Buffers;
using System.Collections.Concurrent;
using PPSharp.Serialization;

namespace PPSharp.Execution;

/// <summary>
/// The worker's cache of functions by id. A definition is parsed when received and loaded at first use, on the thread
/// that runs jobs; a definition that fails to load fails each job that uses it, with the reason, and nothing else.
/// </summary>
/// <remarks>
/// A description whose assemblies carry paths (sent by a node, for code shipped from a client) is loaded into a
/// <see cref="CodeLoadContext"/> for that set of assemblies, so code from different clients, or different versions of
/// one assembly, never collide. A description without paths uses the worker's own assemblies (local workers).
/// </remarks>
internal sealed class FunctionTable
{
    private readonly ConcurrentDictionary<int, Lazy<LoadedFunction>> _functions = new();
    private readonly ConcurrentDictionary<string, TypeLoader> _loaders = new(StringComparer.Ordinal);

    /// <summary>Stores a DefineFunction payload. Called on the read loop: cheap, no loading here.</summary>
    public void Define(ReadOnlySequence<byte> payload)
    {
        FunctionDescription description = FunctionDescription.Read(payload);
        _functions[description.Id] = new Lazy<LoadedFunction>(() => LoadedFunction.Load(description, LoaderFor(description.Code)));
    }

    public LoadedFunction Get(int id) =>
        _functions.TryGetValue(id, out Lazy<LoadedFunction>? function)
            ? function.Value
            : throw new PPSharp.Protocol.ProtocolException($"Job for function {id}, which was never defined on this channel.");

    private TypeLoader LoaderFor(CodeAssembly[] code)
    {
        CodeAssembly[] shipped = [.. code.Where(c => c.Path is not null)];
        if (shipped.Length == 0)
        {
            return TypeLoader.Default;
        }

        string key = string.Join(",", shipped.Select(c => c.Sha256).Order(StringComparer.Ordinal));
        return _loaders.GetOrAdd(key, _ => new CodeLoadContext(shipped).Types);
    }
}
