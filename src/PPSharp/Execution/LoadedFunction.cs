using System.Buffers;
using System.Reflection;
using MessagePack;
using PPSharp.Serialization;

namespace PPSharp.Execution;

/// <summary>
/// A function as a worker runs it: resolved once from its DefineFunction description, then invoked for every job with
/// an invoker and per-type readers and writers built once (no reflection lookups per job).
/// </summary>
internal sealed class LoadedFunction
{
    private delegate object? BoxedReader(ref MessagePackReader reader, MessagePackSerializerOptions options);

    private delegate void BoxedWriter(ref MessagePackWriter writer, object? value, MessagePackSerializerOptions options);

    private static readonly MethodInfo ReadBoxedMethod = typeof(LoadedFunction).GetMethod(nameof(ReadBoxed), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo WriteBoxedMethod = typeof(LoadedFunction).GetMethod(nameof(WriteBoxed), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AwaitValueMethod = typeof(LoadedFunction).GetMethod(nameof(AwaitValue), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AwaitValueTaskMethod = typeof(LoadedFunction).GetMethod(nameof(AwaitValueTask), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly MethodInvoker _invoker;

    /// <summary>Serializer options whose type names resolve where this function's code was loaded.</summary>
    public JobSerializerOptions Options { get; private init; } = JobSerializerOptions.Local;
    private readonly TargetKind _kind;
    private readonly Type? _targetType;
    private readonly ClosureShape? _closure;
    private readonly BoxedReader[] _arguments;
    private readonly Func<object?, object?>? _await;
    private readonly BoxedWriter? _result;

    private LoadedFunction(MethodInfo method, Type delegateType, TargetKind kind, Type? targetType, ClosureShape? closure)
    {
        _invoker = MethodInvoker.Create(method);
        _kind = kind;
        _targetType = targetType;
        _closure = closure;
        MethodInfo invoke = delegateType.GetMethod("Invoke")
            ?? throw new PayloadSerializationException($"{delegateType} is not a delegate type.");
        _arguments = invoke.GetParameters()
            .Select(p => ReadBoxedMethod.MakeGenericMethod(p.ParameterType).CreateDelegate<BoxedReader>())
            .ToArray();

        // What the caller reads back: the delegate's return type, with Task<T> / ValueTask<T> awaited to T.
        Type returns = invoke.ReturnType;
        Type? value = returns;
        if (returns == typeof(Task) || returns == typeof(ValueTask))
        {
            _await = returns == typeof(Task) ? static t => { ((Task)t!).GetAwaiter().GetResult(); return null; } : static t => { ((ValueTask)t!).GetAwaiter().GetResult(); return null; };
            value = null;
        }
        else if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
        {
            value = returns.GetGenericArguments()[0];
            _await = AwaitValueMethod.MakeGenericMethod(value).CreateDelegate<Func<object?, object?>>();
        }
        else if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            value = returns.GetGenericArguments()[0];
            _await = AwaitValueTaskMethod.MakeGenericMethod(value).CreateDelegate<Func<object?, object?>>();
        }
        else if (returns == typeof(void))
        {
            value = null;
        }

        _result = value is null ? null : WriteBoxedMethod.MakeGenericMethod(value).CreateDelegate<BoxedWriter>();
    }

    /// <summary>Resolves a function description with <paramref name="types"/>, or throws what went wrong.</summary>
    public static LoadedFunction Load(FunctionDescription description, TypeLoader types)
    {
        Type delegateType = types.Load(description.DelegateType);
        if (description.Source is { } source)
        {
            MethodInfo compiled = SourceCompilers.Compile(source, delegateType);

            // An async entry (Task<T> where T was declared) is awaited: read the shape from the method itself.
            Type shape = System.Linq.Expressions.Expression.GetFuncType([.. compiled.GetParameters().Select(p => p.ParameterType), compiled.ReturnType]);
            return new LoadedFunction(compiled, shape, TargetKind.None, null, null) { Options = new JobSerializerOptions(types) };
        }

        Type declaringType = types.Load(description.DeclaringType);
        int token = description.MethodToken;
        Type[] generic = [.. description.GenericArguments.Select(types.Load)];
        TargetKind kind = description.Kind;
        Type? targetType = description.TargetType is { } name ? types.Load(name) : null;
        ClosureShape? closure = null;
        if (!description.Closure.IsEmpty)
        {
            var reader = new MessagePackReader(description.Closure);
            closure = ClosureShape.ReadDescription(ref reader, types);
        }

        var method = declaringType.Module.ResolveMethod(token) as MethodInfo
            ?? throw new PayloadSerializationException($"the token {token} in {declaringType} does not name a method here.");
        if (declaringType.IsConstructedGenericType)
        {
            method = (MethodInfo)MethodBase.GetMethodFromHandle(method.MethodHandle, declaringType.TypeHandle)!;
        }

        if (generic.Length > 0)
        {
            method = method.MakeGenericMethod(generic);
        }

        return new LoadedFunction(method, delegateType, kind, targetType, closure) { Options = new JobSerializerOptions(types) };
    }

    /// <summary>Runs one job: reads target and arguments from <paramref name="body"/>, invokes, awaits, writes the result.</summary>
    /// <exception cref="JobCodeException">The function itself threw (the inner exception).</exception>
    public void Run(ReadOnlySequence<byte> body, IBufferWriter<byte> result)
    {
        var reader = new MessagePackReader(body);
        object? target;
        object?[] arguments;
        using (ReferenceTable.ReadScope()) // the writer's scope: target and arguments (JobPayload.WriteBody)
        {
            target = ReadTarget(ref reader);
            arguments = ReadArguments(ref target, ref reader);
        }

        WriteResult(result, Call(target, arguments));
    }

    /// <summary>
    /// Runs a map chunk: the target once, then <paramref name="count"/> calls, one per item's arguments. The result is
    /// an array with an entry per item, <c>[0, value]</c> or <c>[1, exception type, message, stack trace]</c>, so one
    /// item's exception fails only that item.
    /// </summary>
    /// <exception cref="PayloadSerializationException">An item's arguments could not be read (the chunk cannot go on).</exception>
    public void RunChunk(ReadOnlySequence<byte> body, int count, IBufferWriter<byte> result)
    {
        var reader = new MessagePackReader(body);
        object? target = ReadTarget(ref reader);
        var item = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(result);
        writer.WriteArrayHeader(count);
        for (int i = 0; i < count; i++)
        {
            item.ResetWrittenCount();
            object? value;
            try
            {
                value = Invoke(target, ref reader);
            }
            catch (JobCodeException ex)
            {
                WriteFailure(ref writer, ex.InnerException!);
                continue;
            }

            try
            {
                WriteResult(item, value);
            }
            catch (PayloadSerializationException ex)
            {
                WriteFailure(ref writer, ex);
                continue;
            }

            writer.WriteArrayHeader(2);
            writer.Write(0);
            if (_result is null)
            {
                writer.WriteNil();
            }
            else
            {
                writer.WriteRaw(item.WrittenSpan);
            }
        }

        writer.Flush();
    }

    private static void WriteFailure(ref MessagePackWriter writer, Exception error)
    {
        writer.WriteArrayHeader(4);
        writer.Write(1);
        writer.Write(ExceptionText.TypeName(error));
        writer.Write(ExceptionText.Message(error));
        writer.Write(ExceptionText.StackTrace(error));
    }

    private object? ReadTarget(ref MessagePackReader reader) => _kind switch
    {
        TargetKind.None => null,
        TargetKind.Closure => _closure!.ReadValue(ref reader, Options),
        _ => MessagePackSerializer.Deserialize(_targetType!, ref reader, Options),
    };

    /// <summary>Reads one call's arguments, invokes and awaits it.</summary>
    private object? Invoke(object? target, ref MessagePackReader reader)
    {
        object?[] arguments = ReadArguments(ref target, ref reader);
        return Call(target, arguments);
    }

    /// <summary>Reads one call's arguments; a target passed as the first argument moves there (and out of <paramref name="target"/>).</summary>
    private object?[] ReadArguments(ref object? target, ref MessagePackReader reader)
    {
        MessagePackSerializerOptions options = Options;
        int offset = _kind == TargetKind.FirstArgument ? 1 : 0;
        object?[] arguments = new object?[_arguments.Length + offset];
        if (offset == 1)
        {
            arguments[0] = target;
            target = null;
        }

        for (int i = 0; i < _arguments.Length; i++)
        {
            try
            {
                arguments[i + offset] = _arguments[i](ref reader, options);
            }
            catch (Exception ex) when (ex is PayloadSerializationException or MessagePackSerializationException)
            {
                throw (PayloadSerializationException.Find(ex) ?? new PayloadSerializationException(ex.Message, ex)).At($"argument {i + 1}");
            }
        }

        return arguments;
    }

    /// <summary>Invokes the function and awaits what it returns.</summary>
    private object? Call(object? target, object?[] arguments)
    {
        try
        {
            object? value = _invoker.Invoke(target, arguments.AsSpan());
            return _await is null ? value : _await(value);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw new JobCodeException(ex.InnerException);
        }
        catch (Exception ex)
        {
            throw new JobCodeException(ex);
        }
    }

    private void WriteResult(IBufferWriter<byte> result, object? value)
    {
        if (_result is null)
        {
            return;
        }

        var writer = new MessagePackWriter(result);
        try
        {
            _result(ref writer, value, Options);
        }
        catch (Exception ex) when (ex is PayloadSerializationException or MessagePackSerializationException or NotSupportedException)
        {
            throw (PayloadSerializationException.Find(ex) ?? new PayloadSerializationException(ex.Message, ex)).At("the job's result");
        }

        writer.Flush();
    }

    private static object? ReadBoxed<T>(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);

    private static void WriteBoxed<T>(ref MessagePackWriter writer, object? value, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, (T)value!, options);

    private static object? AwaitValue<T>(object? task) => ((Task<T>)task!).GetAwaiter().GetResult();

    private static object? AwaitValueTask<T>(object? task) => ((ValueTask<T>)task!).GetAwaiter().GetResult();
}

/// <summary>The user's function threw <see cref="Exception.InnerException"/>; distinguishes it from our own failures.</summary>
/// <remarks>Its own message is fixed: the inner exception's Message getter may throw.</remarks>
internal sealed class JobCodeException(Exception inner) : Exception("The job's code threw.", inner);
