using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using MessagePack;
using PPSharp.Scheduling;

namespace PPSharp.Serialization;

/// <summary>What a job's delegate is bound to, and so what travels with each job besides the arguments.</summary>
internal enum TargetKind : byte
{
    /// <summary>A static method: nothing.</summary>
    None = 0,

    /// <summary>A lambda's compiler-generated closure: only the captured variables its code uses (<see cref="ClosureShape"/>).</summary>
    Closure = 1,

    /// <summary>A bound instance method (<c>proc.TLog</c>): the whole object, field by field.</summary>
    Object = 2,

    /// <summary>A static method closed over its first argument (an extension method bound to a value).</summary>
    FirstArgument = 3,
}

/// <summary>
/// The caller's side of "transparent caching": one <see cref="FunctionInfo"/> per distinct function (method, delegate
/// type, target type), built once with its closure analysis and its encoded description, then reused by every job.
/// </summary>
/// <remarks>
/// The description (<see cref="FunctionDescription"/>) names types by assembly-qualified name and the method by its
/// metadata token in the declaring type's module, exact even for overloads and generic methods.
/// </remarks>
internal sealed class FunctionCatalog
{
    private readonly ConcurrentDictionary<(MethodInfo Method, Type Delegate, Type? Target), FunctionInfo> _functions = new();
    private readonly ConcurrentDictionary<(string Text, Type Delegate), FunctionInfo> _sources = new();
    private int _nextId;

    /// <exception cref="ArgumentException">The delegate cannot run in another process (and why).</exception>
    public FunctionInfo Get(Delegate function)
    {
        MethodInfo method = function.Method;
        object? target = function.Target;
        (MethodInfo, Type, Type?) key = (method, function.GetType(), target?.GetType());
        if (_functions.TryGetValue(key, out FunctionInfo? known))
        {
            return known;
        }

        Validate(function);
        return _functions.GetOrAdd(key, static (k, self) => self.Create(k.Method, k.Delegate, k.Target), this);
    }

    /// <summary>A source function: one definition per distinct text and signature, so workers compile it once.</summary>
    public FunctionInfo Get(SourceFunction function)
    {
        var text = new SourceText(function.Source, [.. function.Depfuncs], [.. function.Modules], function.Entry);
        string key = string.Join("\u0000", [text.Source, .. text.Depfuncs, "\u0001", .. text.Modules, "\u0001", text.Entry ?? string.Empty]);
        return _sources.GetOrAdd((key, function.DelegateType), _ =>
        {
            int id = Interlocked.Increment(ref _nextId);
            var description = new FunctionDescription(id, TypeLoader.GetName(function.DelegateType), string.Empty, 0, [], TargetKind.None, null, default, [], text);
            return new FunctionInfo(new FunctionDefinition(id, description.ToPayload()), TargetKind.None, null, null);
        });
    }

    private static void Validate(Delegate function)
    {
        if (function.HasSingleTarget is false)
        {
            throw new ArgumentException("A multicast delegate (several functions combined with +=) cannot be submitted; submit one function.", nameof(function));
        }

        MethodInfo method = function.Method;
        if (method is DynamicMethod || method.DeclaringType is null || method.Module.Assembly.IsDynamic)
        {
            throw new ArgumentException(
                $"The function {method.Name} was generated at run time (a DynamicMethod, a compiled expression tree or a dynamic assembly), so a worker process cannot load it. Submit a method or lambda written in source code.",
                nameof(function));
        }

        if (string.IsNullOrEmpty(method.Module.Assembly.Location))
        {
            throw new ArgumentException(
                $"The function {method.Name} lives in the assembly {method.Module.Assembly.GetName().Name}, which was loaded from memory; a worker process can only load assemblies from files.",
                nameof(function));
        }
    }

    private FunctionInfo Create(MethodInfo method, Type delegateType, Type? targetType)
    {
        TargetKind kind = targetType is null ? TargetKind.None
            : method.IsStatic ? TargetKind.FirstArgument
            : Display.IsCompilerGenerated(targetType) ? TargetKind.Closure
            : TargetKind.Object;
        ClosureShape? closure = kind == TargetKind.Closure
            ? ClosureShape.Build(targetType!, ClosureAnalyzer.AccessedFields(method))
            : null;

        int id = Interlocked.Increment(ref _nextId);
        byte[]? closureDescription = null;
        if (closure is not null)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
            var writer = new MessagePackWriter(buffer);
            closure.WriteDescription(ref writer);
            writer.Flush();
            closureDescription = buffer.WrittenSpan.ToArray();
        }

        Type[] generic = method.IsGenericMethod ? method.GetGenericArguments() : [];
        IEnumerable<Type> types = [delegateType, method.DeclaringType!, .. generic, .. targetType is null ? [] : new[] { targetType }];
        var description = new FunctionDescription(
            id,
            TypeLoader.GetName(delegateType),
            TypeLoader.GetName(method.DeclaringType!),
            method.MetadataToken,
            [.. generic.Select(TypeLoader.GetName)],
            kind,
            kind is TargetKind.Object or TargetKind.FirstArgument ? TypeLoader.GetName(targetType!) : null,
            closureDescription,
            CodeSets.For(types.SelectMany(AssembliesOf).Distinct()));
        return new FunctionInfo(new FunctionDefinition(id, description.ToPayload()), kind, targetType, closure);
    }

    /// <summary>The assemblies a type's name refers to: its own and those of its generic arguments.</summary>
    private static IEnumerable<System.Reflection.Assembly> AssembliesOf(Type type) =>
        type.IsGenericType
            ? [type.Assembly, .. type.GetGenericArguments().SelectMany(AssembliesOf)]
            : type.HasElementType ? AssembliesOf(type.GetElementType()!) : [type.Assembly];
}

/// <summary>A function as the caller knows it: its definition for the wire, and how to write its target for each job.</summary>
internal sealed class FunctionInfo(FunctionDefinition definition, TargetKind kind, Type? targetType, ClosureShape? closure)
{
    public FunctionDefinition Definition { get; } = definition;

    public void WriteTarget(ref MessagePackWriter writer, object? target, MessagePackSerializerOptions options)
    {
        switch (kind)
        {
            case TargetKind.Closure:
                closure!.WriteValue(ref writer, target!, options);
                break;
            case TargetKind.Object:
            case TargetKind.FirstArgument:
                MessagePackSerializer.Serialize(targetType!, ref writer, target, options);
                break;
        }
    }
}
