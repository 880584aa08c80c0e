using System.Buffers;
using MessagePack;
using MessagePack.Formatters;
using PPSharp.Protocol;

namespace PPSharp.Serialization;

/// <summary>The arguments of one job, written with each argument's own formatter (no boxing); see the generated <c>JobArguments</c> structs.</summary>
internal interface IJobArguments
{
    void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options);
}

/// <summary>Builds a job's body at submission time and reads results back, turning serialization failures into clear errors.</summary>
internal static class JobPayload
{
    /// <summary>A thread's body buffer past this size is given back after the body (to <see cref="LargeArrays"/>, capped).</summary>
    private const int KeepBodyBufferBelow = 1 << 20;

    [ThreadStatic]
    private static PooledBufferWriter? t_buffer;

    /// <summary>Serializes the function's target and the arguments into the body a <c>RunJob</c> frame carries.</summary>
    /// <exception cref="ArgumentException">Something in the target or the arguments cannot be sent; the message names it.</exception>
    public static byte[] WriteBody<TArgs>(FunctionInfo function, object? target, in TArgs arguments)
        where TArgs : struct, IJobArguments
    {
        try
        {
            return DeepStack.Run((function, target, arguments), static s => WriteBodyHere(s.function, s.target, s.arguments));
        }
        catch (PayloadSerializationException ex)
        {
            throw new ArgumentException($"The job cannot be sent to a worker process: {ex.Message}", nameof(arguments), ex);
        }
    }

    private static byte[] WriteBodyHere<TArgs>(FunctionInfo function, object? target, in TArgs arguments)
        where TArgs : struct, IJobArguments
    {
        PooledBufferWriter buffer = t_buffer ??= new PooledBufferWriter(KeepBodyBufferBelow);
        buffer.Reset();
        var writer = new MessagePackWriter(buffer);
        MessagePackSerializerOptions options = JobSerializerOptions.Local;
        using ReferenceTable.ScopeHandle scope = ReferenceTable.WriteScope(); // an object in two arguments stays one object
        try
        {
            try
            {
                function.WriteTarget(ref writer, target, options);
            }
            catch (Exception ex) when (IsSerializationFailure(ex))
            {
                throw Refuse(ex, "function", $"the function's {(target is not null && Display.IsCompilerGenerated(target.GetType()) ? "captured variables" : $"target object ({Display.TypeName(target!.GetType())})")}");
            }

            try
            {
                arguments.Write(ref writer, options);
            }
            catch (Exception ex) when (IsSerializationFailure(ex))
            {
                throw Refuse(ex, "args", null);
            }

            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > KeepBodyBufferBelow)
            {
                buffer.Release(); // A huge argument's buffer is not held by this thread for good, nor allocated afresh each time.
            }
        }
    }

    /// <summary>
    /// Serializes the body of a map chunk: the function's target once, then each item as the single argument of its
    /// call. An item that cannot be sent is named by its index in the map.
    /// </summary>
    /// <exception cref="ArgumentException">The target or an item cannot be sent; the message names it.</exception>
    public static byte[] WriteChunkBody<T>(FunctionInfo function, object? target, IReadOnlyList<T> items, int firstIndex)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        MessagePackSerializerOptions options = JobSerializerOptions.Local;
        try
        {
            function.WriteTarget(ref writer, target, options);
        }
        catch (Exception ex) when (IsSerializationFailure(ex))
        {
            throw Refuse(ex, "function", "the function's captured variables or target");
        }

        IMessagePackFormatter<T> formatter = options.Resolver.GetFormatterWithVerify<T>();
        for (int i = 0; i < items.Count; i++)
        {
            try
            {
                formatter.Serialize(ref writer, items[i], options);
            }
            catch (Exception ex) when (IsSerializationFailure(ex))
            {
                throw Refuse(ex, "items", $"item {firstIndex + i} ({Display.TypeName(typeof(T))})");
            }
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes one argument, naming it if it fails.</summary>
    public static void WriteArgument<T>(ref MessagePackWriter writer, T value, int position, MessagePackSerializerOptions options)
    {
        try
        {
            options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);
        }
        catch (Exception ex) when (IsSerializationFailure(ex))
        {
            throw (PayloadSerializationException.Find(ex) ?? new PayloadSerializationException(ex.Message, ex))
                .At($"argument {position} ({Display.TypeName(typeof(T))})");
        }
    }

    public static T ReadResult<T>(ReadOnlyMemory<byte> result) =>
        DeepStack.Run(result, static r => MessagePackSerializer.Deserialize<T>(r, JobSerializerOptions.Local));

    private static bool IsSerializationFailure(Exception ex) =>
        ex is PayloadSerializationException or MessagePackSerializationException or NotSupportedException;

    private static ArgumentException Refuse(Exception ex, string parameter, string? what)
    {
        PayloadSerializationException? found = PayloadSerializationException.Find(ex);
        if (found is not null && what is not null)
        {
            found.At(what);
        }

        string detail = found?.Message ?? ex.Message;
        return new ArgumentException($"The job cannot be sent to a worker process: {detail}", parameter, ex);
    }
}
