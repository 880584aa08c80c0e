using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;

namespace PPSharp.Serialization;

/// <summary>
/// The caller's side of code shipping: which assemblies a function needs on a machine that has only <c>ppserver</c>
/// (its own assembly and every dependency that is not part of the shared framework or of PPSharp itself), each named
/// by the SHA-256 of its file, computed once per process.
/// </summary>
internal static class CodeSets
{
    /// <summary>Assemblies every node has already, as part of <c>ppserver</c>: never shipped, always shared.</summary>
    public static readonly HashSet<string> Shared = new(StringComparer.OrdinalIgnoreCase)
    {
        "PPSharp", "MessagePack", "MessagePack.Annotations", "Microsoft.Extensions.Logging.Abstractions",
        "Microsoft.Extensions.DependencyInjection.Abstractions", "Microsoft.NET.StringTools",
    };

    private static readonly string FrameworkRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", ".."));
    private static readonly ConcurrentDictionary<Assembly, CodeAssembly?> Hashed = new();
    private static readonly ConcurrentDictionary<string, string> PathsBySha = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Dictionary<string, WeakReference<byte[]>> Contents = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The assemblies needed to run code from <paramref name="roots"/>, dependencies included.</summary>
    public static CodeAssembly[] For(IEnumerable<Assembly> roots)
    {
        var seen = new HashSet<Assembly>();
        var result = new List<CodeAssembly>();
        var pending = new Stack<Assembly>(roots);
        while (pending.Count > 0)
        {
            Assembly assembly = pending.Pop();
            if (!seen.Add(assembly) || Hash(assembly) is not { } code)
            {
                continue;
            }

            result.Add(code);
            AssemblyLoadContext context = AssemblyLoadContext.GetLoadContext(assembly) ?? AssemblyLoadContext.Default;
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                try
                {
                    pending.Push(context.LoadFromAssemblyName(reference));
                }
                catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    // A reference the code never loads here (optional or platform-specific): nothing to ship.
                }
            }
        }

        return [.. result.OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>The file of an assembly this process described, by its SHA-256; null if unknown.</summary>
    public static string? PathOf(string sha256) => PathsBySha.GetValueOrDefault(sha256);

    /// <summary>
    /// The bytes of an assembly this process described, by its SHA-256; null if unknown. Read from disk once and shared
    /// while any upload still holds them, so a client that feeds a hundred nodes at once keeps one copy, not a hundred.
    /// </summary>
    public static byte[]? ContentOf(string sha256)
    {
        if (PathOf(sha256) is not { } path)
        {
            return null;
        }

        lock (Contents)
        {
            if (Contents.TryGetValue(sha256, out WeakReference<byte[]>? held) && held.TryGetTarget(out byte[]? content))
            {
                return content;
            }

            content = File.ReadAllBytes(path);
            Contents[sha256] = new WeakReference<byte[]>(content);
            return content;
        }
    }

    private static CodeAssembly? Hash(Assembly assembly) => Hashed.GetOrAdd(assembly, static a =>
    {
        if (a.IsDynamic || string.IsNullOrEmpty(a.Location) || Shared.Contains(a.GetName().Name ?? string.Empty)
            || Path.GetFullPath(a.Location).StartsWith(FrameworkRoot, StringComparison.Ordinal))
        {
            return null;
        }

        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(a.Location)));
        PathsBySha[sha] = a.Location;
        return new CodeAssembly(a.FullName ?? a.GetName().Name!, sha, null);
    });
}
