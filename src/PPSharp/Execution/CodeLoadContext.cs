using System.Reflection;
using System.Runtime.Loader;
using PPSharp.Serialization;

namespace PPSharp.Execution;

/// <summary>
/// A load context for one set of shipped assemblies (one client's code, one version). PPSharp itself and the shared
/// framework come from the default context, so values cross between them; everything in the set is private to it.
/// </summary>
internal sealed class CodeLoadContext : AssemblyLoadContext
{
    private readonly Dictionary<string, string> _paths = new(StringComparer.OrdinalIgnoreCase);

    public CodeLoadContext(IEnumerable<CodeAssembly> assemblies)
        : base("ppsharp-code", isCollectible: false)
    {
        foreach (CodeAssembly assembly in assemblies)
        {
            _paths[new AssemblyName(assembly.Name).Name!] = assembly.Path!;
        }

        Types = new ContextTypeLoader(this);
    }

    public TypeLoader Types { get; }

    protected override Assembly? Load(AssemblyName assemblyName) =>
        assemblyName.Name is { } name && !CodeSets.Shared.Contains(name) && _paths.TryGetValue(name, out string? path)
            ? LoadFromAssemblyPath(path)
            : null; // The default context: the framework, PPSharp, MessagePack.

    private sealed class ContextTypeLoader(CodeLoadContext context) : TypeLoader
    {
        protected override Type? Resolve(string name) =>
            Type.GetType(name, an => context.LoadFromAssemblyName(an), typeResolver: null, throwOnError: false);
    }
}
