namespace PPSharp;

/// <summary>
/// A function given as C# source text, compiled where it runs (ppft's <c>dill.source</c> path): for code that exists
/// only as text, such as a REPL, a notebook, or code built at run time. See <see cref="SourceFunction{T1, TResult}"/>
/// and its siblings for 0 to 8 arguments.
/// </summary>
/// <remarks>
/// <para>The source is one or more method declarations; <paramref name="depfuncs"/> adds the other methods and types
/// (classes, records) it uses, and <paramref name="modules"/> the namespaces to import (or assemblies to reference,
/// by name). The method named <paramref name="entry"/>, or else the first method declared in the source, is called.
/// Methods should be <c>static</c>. The common namespaces (<c>System</c>, <c>System.Linq</c>, collections, tasks, IO)
/// are imported already.</para>
/// <para>Workers compile with Roslyn, once per distinct source, and need the <c>PPSharp.Source</c> package: reference
/// it from the application for local workers; <c>ppserver</c> includes it. A compile error fails the job with
/// <see cref="JobFailedException"/> listing the compiler's diagnostics (id, line, column, message).</para>
/// </remarks>
/// <param name="source">The function's declaration.</param>
/// <param name="depfuncs">Other declarations it uses (methods, classes, records).</param>
/// <param name="modules">Namespaces to import; assembly names to reference.</param>
/// <param name="entry">The method to call; by default the first method declared in <paramref name="source"/>.</param>
/// <param name="delegateType">The signature, as a <c>Func</c> type.</param>
public abstract class SourceFunction(string source, IEnumerable<string>? depfuncs, IEnumerable<string>? modules, string? entry, Type delegateType)
{
    /// <summary>The function's declaration.</summary>
    public string Source { get; } = string.IsNullOrWhiteSpace(source)
        ? throw new ArgumentException("The source of a source function cannot be empty.", nameof(source))
        : source;

    /// <summary>Other declarations the function uses.</summary>
    public IReadOnlyList<string> Depfuncs { get; } = [.. depfuncs ?? []];

    /// <summary>Namespaces to import, or assemblies to reference.</summary>
    public IReadOnlyList<string> Modules { get; } = [.. (modules ?? []).Select(m => string.IsNullOrWhiteSpace(m)
        ? throw new ArgumentException("A module name cannot be empty.", nameof(modules))
        : m.Trim())];

    /// <summary>The method to call, or null for the first method declared in <see cref="Source"/>.</summary>
    public string? Entry { get; } = entry;

    internal Type DelegateType { get; } = delegateType;

    /// <inheritdoc />
    public override string ToString() => Entry is null ? $"source function ({DelegateType.Name})" : $"source function {Entry}";
}
