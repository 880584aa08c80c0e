using System.Reflection;
using PPSharp.Serialization;

namespace PPSharp.Execution;

/// <summary>Compiles source functions in a worker. Implemented by the <c>PPSharp.Source</c> package (Roslyn).</summary>
internal interface ISourceCompiler
{
    /// <summary>Compiles <paramref name="source"/> and returns its entry method, checked against <paramref name="delegateType"/>.</summary>
    /// <exception cref="SourceCompilationException">The source does not compile, or its entry does not match the signature.</exception>
    MethodInfo Compile(SourceText source, Type delegateType);
}

/// <summary>
/// Finds the source compiler the first time a source function arrives, so that the compiler is never loaded by
/// applications that use no source functions, and the core package does not carry it.
/// </summary>
internal static class SourceCompilers
{
    private const string CompilerType = "PPSharp.Source.RoslynSourceCompiler, PPSharp.Source";

    private static readonly Lazy<ISourceCompiler?> Compiler = new(() =>
        Type.GetType(CompilerType, throwOnError: false) is { } type ? (ISourceCompiler?)Activator.CreateInstance(type) : null);

    public static MethodInfo Compile(SourceText source, Type delegateType) =>
        (Compiler.Value ?? throw new SourceCompilationException(
            "Source functions are compiled where they run, with the PPSharp.Source package, which this worker does not have: add a reference to PPSharp.Source to the application (ppserver nodes include it)."))
        .Compile(source, delegateType);
}

/// <summary>A source function did not compile, or does not match its declared signature; the message lists why.</summary>
internal sealed class SourceCompilationException(string message) : Exception(message);
