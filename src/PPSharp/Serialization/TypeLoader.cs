using System.Collections.Concurrent;
using System.Reflection;

namespace PPSharp.Serialization;

/// <summary>
/// Maps types to the names that travel on the wire and back. Local workers load the caller's own assemblies
/// (they run with the caller's dependency list), so the default instance resolves names in the default load context.
/// </summary>
internal class TypeLoader
{
    public static readonly TypeLoader Default = new();

    private static readonly ConcurrentDictionary<Type, string> Names = new();
    private readonly ConcurrentDictionary<string, Type> _types = new(StringComparer.Ordinal);

    public static string GetName(Type type) => Names.GetOrAdd(type, static t =>
        t.Assembly == typeof(object).Assembly
            ? t.FullName ?? throw new PayloadSerializationException($"The type {t} has no name that can travel to another process.")
            : t.AssemblyQualifiedName ?? throw new PayloadSerializationException($"The type {t} has no name that can travel to another process."));

    /// <exception cref="PayloadSerializationException">The name does not resolve.</exception>
    public Type Load(string name) => _types.GetOrAdd(name, static (n, self) =>
    {
        Type? type;
        try
        {
            type = self.Resolve(n);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or TypeLoadException or ArgumentException)
        {
            throw new PayloadSerializationException($"The type '{n}' could not be loaded: {ex.Message}", ex);
        }

        return type ?? throw new PayloadSerializationException($"The type '{n}' could not be found.");
    }, this);

    protected virtual Type? Resolve(string name) => Type.GetType(name, throwOnError: false);
}
