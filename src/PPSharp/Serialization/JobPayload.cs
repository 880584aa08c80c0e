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
    [ThreadStatic]
    private static PooledBufferWriter? t_buffer;

    /// <summary>Serializes the function's target and the arguments into the body a <c>RunJob</c> frame carries.</summary>
    /// <exception cref="ArgumentException">Something in the target or the arguments cannot be sent; the message names it.</exception>
    /// <returns>
    /// The body. A large one (above <see cref="LargeArrays.LargeAbove"/>) lies in the array it was written into, a
    /// <see cref="HeldArray"/> with one hold for the caller, which its job's <see cref="Scheduling.WorkItem"/> releases
    /// once finished; a small one is copied out of the thread's buffer.
    /// </returns>
    public static ReadOnlyMemory<byte> WriteBody<TArgs>(FunctionInfo function, object? target, in TArgs arguments)
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

    private static ReadOnlyMemory<byte> WriteBodyHere<TArgs>(FunctionInfo function, object? target, in TArgs arguments)
        where TArgs : struct, IJobArguments
    {
        PooledBufferWriter buffer = ThreadBuffer();
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
            return TakeBody(buffer);
        }
        finally
        {
            ReleaseLarge(buffer);
        }
    }

    /// <summary>The thread's buffer for bodies, emptied.</summary>
    private static PooledBufferWriter ThreadBuffer()
    {
        PooledBufferWriter buffer = t_buffer ??= new PooledBufferWriter(LargeArrays.LargeAbove);
        buffer.Reset();
        return buffer;
    }

    /// <summary>
    /// The body written in the thread's buffer: a large one is not copied (an 8 MiB copy into fresh memory costs 5 to
    /// 15 ms on this project's machine, page faults mostly) but handed over with its array, which the buffer forgets;
    /// a small one is copied out, and the buffer keeps its array for the next body.
    /// </summary>
    private static ReadOnlyMemory<byte> TakeBody(PooledBufferWriter buffer) =>
        buffer.WrittenCount > LargeArrays.LargeAbove ? HeldArray.Take(buffer.Detach(), LargeArrays.Shared) : buffer.WrittenSpan.ToArray();

    /// <summary>A large buffer left after a failure is given back: not held by this thread for good.</summary>
    private static void ReleaseLarge(PooledBufferWriter buffer)
    {
        if (buffer.Capacity > LargeArrays.LargeAbove)
        {
            buffer.Release();
        }
    }

    /// <summary>
    /// Serializes the body of a map chunk: the function's target once, then each item as the single argument of its
    /// call. An item that cannot be sent is named by its index in the map.
    /// </summary>
    /// <exception cref="ArgumentException">The target or an item cannot be sent; the message names it.</exception>
    /// <returns>The body, as <see cref="WriteBody{TArgs}"/> returns it.</returns>
    public static ReadOnlyMemory<byte> WriteChunkBody<T>(FunctionInfo function, object? target, IReadOnlyList<T> items, int firstIndex)
    {
        PooledBufferWriter buffer = ThreadBuffer();
        var writer = new MessagePackWriter(buffer);
        MessagePackSerializerOptions options = JobSerializerOptions.Local;
        try
        {
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
            return TakeBody(buffer);
        }
        finally
        {
            ReleaseLarge(buffer);
        }
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
