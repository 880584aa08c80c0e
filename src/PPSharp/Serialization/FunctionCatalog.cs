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
/// DefineFunction payload, a MessagePack array of 8:
/// <c>[id, delegate type, declaring type, method token, [method generic arguments], target kind, target type or nil, closure description or nil]</c>.
/// Types are assembly-qualified names (the worker loads the same assemblies); the method is its metadata token in the
/// declaring type's module, exact even for overloads and generic methods.
/// </remarks>
internal sealed class FunctionCatalog
{
    private readonly ConcurrentDictionary<(MethodInfo Method, Type Delegate, Type? Target), FunctionInfo> _functions = new();
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
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(8);
        writer.Write(id);
        writer.Write(TypeLoader.GetName(delegateType));
        writer.Write(TypeLoader.GetName(method.DeclaringType!));
        writer.Write(method.MetadataToken);
        Type[] generic = method.IsGenericMethod ? method.GetGenericArguments() : [];
        writer.WriteArrayHeader(generic.Length);
        foreach (Type argument in generic)
        {
            writer.Write(TypeLoader.GetName(argument));
        }

        writer.Write((byte)kind);
        if (kind is TargetKind.Object or TargetKind.FirstArgument)
        {
            writer.Write(TypeLoader.GetName(targetType!));
        }
        else
        {
            writer.WriteNil();
        }

        if (closure is not null)
        {
            closure.WriteDescription(ref writer);
        }
        else
        {
            writer.WriteNil();
        }

        writer.Flush();
        return new FunctionInfo(new FunctionDefinition(id, buffer.WrittenSpan.ToArray()), kind, targetType, closure);
    }
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
