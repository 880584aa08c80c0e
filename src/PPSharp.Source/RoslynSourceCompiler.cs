using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PPSharp.Execution;
using PPSharp.Serialization;

namespace PPSharp.Source;

/// <summary>
/// Compiles source functions with Roslyn in the worker that runs them, once per distinct source and signature (later
/// jobs of the same source reuse the compiled method: ppft's "transparent caching"), against the running framework's
/// assemblies. Found by PPSharp by name the first time a source function arrives.
/// </summary>
internal sealed class RoslynSourceCompiler : ISourceCompiler
{
    private const string HolderClass = "PPSharpSourceFunctions";

    /// <summary>Imported in every source function, as a new C# project's implicit usings are.</summary>
    private static readonly string[] DefaultNamespaces =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Threading", "System.Threading.Tasks", "System.Text",
    ];

    private static readonly Lazy<MetadataReference[]> FrameworkReferences = new(() =>
        [.. ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal)
                || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll" or "Microsoft.CSharp.dll" or "Microsoft.Win32.Primitives.dll")
            .Select(path => MetadataReference.CreateFromFile(path))]);

    private static readonly ConcurrentDictionary<string, Lazy<MethodInfo>> Compiled = new(StringComparer.Ordinal);

    public MethodInfo Compile(SourceText source, Type delegateType)
    {
        string key = string.Join("\u0000", [delegateType.AssemblyQualifiedName, source.Source, .. source.Depfuncs, "\u0001", .. source.Modules, "\u0001", source.Entry]);
        Lazy<MethodInfo> compiled = Compiled.GetOrAdd(key, _ => new Lazy<MethodInfo>(() => CompileNow(source, delegateType)));
        try
        {
            return compiled.Value;
        }
        catch (SourceCompilationException)
        {
            Compiled.TryRemove(key, out _); // A failure is reported to each job that asks, not cached for ever.
            throw;
        }
    }

    private static MethodInfo CompileNow(SourceText source, Type delegateType)
    {
        (string code, List<MetadataReference> references) = Assemble(source);
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest), path: "source-function.cs", Encoding.UTF8);
        string entry = source.Entry ?? FirstMethodName(source.Source)
            ?? throw new SourceCompilationException("The source declares no method to call: give a method declaration, or name one with entry.");

        var compilation = CSharpCompilation.Create(
            $"PPSharp.SourceFunction.{Guid.NewGuid():N}",
            [tree],
            [.. FrameworkReferences.Value, .. references],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Disable));

        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(image);
        if (!result.Success)
        {
            throw new SourceCompilationException("The source function does not compile:" + Environment.NewLine + string.Join(
                Environment.NewLine,
                result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20).Select(Describe)));
        }

        image.Position = 0;
        Assembly assembly = new AssemblyLoadContext($"ppsharp-source-{entry}", isCollectible: false).LoadFromStream(image);
        Type holder = assembly.GetType(HolderClass)!;
        MethodInfo[] candidates = holder.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m.Name == entry)
            .ToArray();
        if (candidates.Length == 0)
        {
            bool instance = holder.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly).Any(m => m.Name == entry);
            throw new SourceCompilationException(instance
                ? $"The entry method '{entry}' must be static."
                : $"The source declares no static method named '{entry}'.");
        }

        return Match(candidates, entry, delegateType);
    }

    /// <summary>Checks the entry method against the signature the type arguments of the source function declare.</summary>
    private static MethodInfo Match(MethodInfo[] candidates, string entry, Type delegateType)
    {
        MethodInfo invoke = delegateType.GetMethod("Invoke")!;
        Type[] wanted = [.. invoke.GetParameters().Select(p => p.ParameterType)];
        foreach (MethodInfo method in candidates)
        {
            Type[] actual = [.. method.GetParameters().Select(p => p.ParameterType)];
            if (actual.SequenceEqual(wanted) && (method.ReturnType == invoke.ReturnType || IsTaskOf(method.ReturnType, invoke.ReturnType)))
            {
                return method;
            }
        }

        MethodInfo first = candidates[0];
        throw new SourceCompilationException(
            $"The entry method {Signature(first.ReturnType, entry, first.GetParameters().Select(p => p.ParameterType))} does not match the declared {Signature(invoke.ReturnType, entry, wanted)}: "
            + "the type arguments of the SourceFunction must be the parameter types, then the return type.");
    }

    private static bool IsTaskOf(Type returned, Type expected) =>
        returned.IsGenericType && returned.GetGenericTypeDefinition() == typeof(Task<>) && returned.GetGenericArguments()[0] == expected;

    private static string Signature(Type returns, string name, IEnumerable<Type> parameters) =>
        $"{returns.Name} {name}({string.Join(", ", parameters.Select(p => p.Name))})";

    /// <summary>
    /// Builds the compilation unit: usings, then one static class holding the source and its depfuncs, each under a
    /// <c>#line</c> directive so that diagnostics point into the user's own text ("source", "depfunc 1", ...).
    /// </summary>
    private static (string Code, List<MetadataReference> References) Assemble(SourceText source)
    {
        var references = new List<MetadataReference>();
        var code = new StringBuilder();
        foreach (string ns in DefaultNamespaces)
        {
            code.Append("using ").Append(ns).AppendLine(";");
        }

        foreach (string module in source.Modules)
        {
            if (TryReference(module) is { } reference)
            {
                references.Add(reference);
            }

            if (SyntaxFacts.IsValidIdentifier(module.Replace(".", string.Empty, StringComparison.Ordinal)) && !DefaultNamespaces.Contains(module))
            {
                code.Append("using ").Append(module).AppendLine(";");
            }
        }

        code.AppendLine($"public static partial class {HolderClass}").AppendLine("{");
        code.AppendLine("#line 1 \"source\"").AppendLine(source.Source);
        for (int i = 0; i < source.Depfuncs.Length; i++)
        {
            code.Append("#line 1 \"depfunc ").Append(i + 1).AppendLine("\"").AppendLine(source.Depfuncs[i]);
        }

        code.AppendLine("#line default").AppendLine("}");
        return (code.ToString(), references);
    }

    /// <summary>A module that names a loadable assembly outside the framework is referenced too.</summary>
    private static PortableExecutableReference? TryReference(string module)
    {
        try
        {
            Assembly assembly = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(module));
            return string.IsNullOrEmpty(assembly.Location) ? null : MetadataReference.CreateFromFile(assembly.Location);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            return null; // Only a namespace.
        }
    }

    private static string? FirstMethodName(string source) =>
        CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script))
            .GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().FirstOrDefault()?.Identifier.Text
        ?? CSharpSyntaxTree.ParseText(source).GetRoot().DescendantNodes().OfType<LocalFunctionStatementSyntax>().FirstOrDefault()?.Identifier.Text;

    private static string Describe(Diagnostic diagnostic)
    {
        FileLinePositionSpan where = diagnostic.Location.GetMappedLineSpan();
        return $"  {diagnostic.Id} at {where.Path} line {where.StartLinePosition.Line + 1}, column {where.StartLinePosition.Character + 1}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
