using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using MessagePack;
using MessagePack.Formatters;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Serialization;

/// <summary>
/// How an exception travels, whether a job threw it (the trailing field of a JobFailed frame) or a job returned or
/// captured it as a value: its type's name, its own message, its stack trace cleaned of PPSharp's and reflection's
/// frames, its HResult, its inner exception, its <see cref="Exception.Data"/> entries and every field its own type
/// declares (below <see cref="Exception"/>) whose value can travel. Whatever cannot be read or sent is left out, so
/// an exception whose getters throw still travels with what could be read.
/// </summary>
/// <remarks>
/// Encoding: <c>nil</c>, or an array of 8: type name, message (nil if unreadable), stack trace or nil, HResult,
/// source or nil, inner exception (this encoding, or nil), <c>[[key, value], ...]</c> (each as an <c>object</c>), and
/// <c>[[field key, field value as bin], ...]</c>, the field key being "DeclaringType.field". Each field value is
/// written on its own, so one that cannot be read back is skipped rather than failing the whole exception.
/// </remarks>
internal static class ExceptionPayload
{
    private const int Fields = 8;

    private static readonly FieldInfo? RawMessage = typeof(Exception).GetField("_message", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly FieldInfo? RawInner = typeof(Exception).GetField("_innerException", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly FieldInfo? RawHResult = typeof(Exception).GetField("_HResult", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly FieldInfo? RawSource = typeof(Exception).GetField("_source", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Frames that say how PPSharp ran the job, not where the job failed.</summary>
    private static readonly string[] HiddenFrames =
    [
        "at PPSharp.Execution.", "at PPSharp.Workers.", "at PPSharp.Serialization.", "at PPSharp.Scheduling.",
        "at PPSharp.Protocol.", "at PPSharp.Remote.", "at PPSharp.StartupHook.", "at System.Reflection.",
        "at System.RuntimeMethodHandle.", "at InvokeStub_",
    ];

    /// <summary>The JobFailed frame for a job that threw <paramref name="error"/>; never throws, whatever the exception's getters do.</summary>
    public static Messages.JobFailed Failed(long jobId, long elapsedTicks, string? output, Exception error)
    {
        // Whatever the exception's getters throw: its stack trace cleaned, else its raw trace or ToString, else a note.
        string trace = StackTraceOf(error) ?? Execution.ExceptionText.StackTrace(error);
        return new Messages.JobFailed(jobId, elapsedTicks, output, Execution.ExceptionText.TypeName(error), Execution.ExceptionText.Message(error), trace, TryWrite(error));
    }

    /// <summary>The exception re-created from a failed outcome: of its own type if it loads here, else a <see cref="RemoteException"/>.</summary>
    public static Exception Recreate(in WorkOutcome outcome)
    {
        if (outcome.ErrorDetail is { Length: > 0 } detail)
        {
            try
            {
                Exception? recreated = MessagePackSerializer.Deserialize<Exception>(detail, JobSerializerOptions.Local);
                if (recreated is not null)
                {
                    return recreated;
                }
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or PayloadSerializationException)
            {
                // Fall back to the strings every JobFailed frame carries.
            }
        }

        return new RemoteException(outcome.ErrorType ?? "System.Exception", outcome.ErrorMessage ?? string.Empty, outcome.ErrorStackTrace);
    }

    /// <summary>The exception's stack trace without PPSharp's and reflection's frames, or null if there is none or it cannot be read.</summary>
    public static string? StackTraceOf(Exception error)
    {
        string? trace = Read(() => error.StackTrace);
        if (trace is null)
        {
            return null;
        }

        var kept = new StringBuilder(trace.Length);
        foreach (string line in trace.Split('\n'))
        {
            string frame = line.TrimStart();
            if (frame.Length == 0 || Array.Exists(HiddenFrames, h => frame.StartsWith(h, StringComparison.Ordinal)))
            {
                continue;
            }

            kept.Append(kept.Length == 0 ? string.Empty : Environment.NewLine).Append(line.TrimEnd('\r'));
        }

        return kept.Length == 0 ? null : kept.ToString();
    }

    private static byte[]? TryWrite(Exception error)
    {
        try
        {
            return MessagePackSerializer.Serialize<Exception>(error, JobSerializerOptions.Local);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null; // The strings of the frame still say what happened.
        }
    }

    internal static T? Read<T>(Func<T> getter)
    {
        try
        {
            return getter();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return default;
        }
    }

    internal static void Write(ref MessagePackWriter writer, Exception error, MessagePackSerializerOptions options)
    {
        Type type = error.GetType();
        writer.WriteArrayHeader(Fields);
        writer.Write(TypeLoader.GetName(type));
        writer.Write(Read(() => RawMessage?.GetValue(error) as string ?? error.Message));
        writer.Write(StackTraceOf(error));
        writer.Write(Read(() => error.HResult));
        writer.Write(Read(() => RawSource?.GetValue(error) as string));
        Exception? inner = Read(() => error.InnerException);
        if (inner is null)
        {
            writer.WriteNil();
        }
        else
        {
            Write(ref writer, inner, options);
        }

        WriteData(ref writer, error, options);
        List<(string Key, byte[] Value)> fields = [];
        foreach (FieldInfo field in OwnFields(type))
        {
            byte[]? value = Read(() => Nested(field.FieldType, field.GetValue(error), options));
            if (value is not null)
            {
                fields.Add((Key(field), value));
            }
        }

        writer.WriteArrayHeader(fields.Count);
        foreach ((string key, byte[] value) in fields)
        {
            writer.WriteArrayHeader(2);
            writer.Write(key);
            writer.Write(value);
        }
    }

    internal static Exception Read(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.ReadArrayHeader() != Fields)
        {
            throw new PayloadSerializationException("malformed data for an exception.");
        }

        string typeName = reader.ReadString() ?? "System.Exception";
        string? message = reader.ReadString();
        string? trace = reader.ReadString();
        int hresult = reader.ReadInt32();
        string? source = reader.ReadString();
        Exception? inner = reader.TryReadNil() ? null : Read(ref reader, options);
        List<(object Key, object? Value)> data = ReadData(ref reader, options);
        var fields = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int count = reader.ReadArrayHeader();
        for (int i = 0; i < count; i++)
        {
            reader.ReadArrayHeader();
            string key = reader.ReadString() ?? string.Empty;
            fields[key] = reader.ReadBytes()?.ToArray() ?? [];
        }

        Type? type = Read(() => JobSerializerOptions.TypesOf(options).Load(typeName));
        Exception? error = type is not null && typeof(Exception).IsAssignableFrom(type) && !type.IsAbstract ? Create(type, message, inner) : null;
        if (error is null)
        {
            error = new RemoteException(typeName, message ?? string.Empty, trace, inner);
        }
        else
        {
            Set(RawMessage, error, message);
            Set(RawInner, error, inner);
            Set(RawHResult, error, hresult);
            Set(RawSource, error, source);
            foreach (FieldInfo field in OwnFields(type!))
            {
                if (fields.TryGetValue(Key(field), out byte[]? value))
                {
                    try
                    {
                        field.SetValue(error, MessagePackSerializer.Deserialize(field.FieldType, value, options));
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // Left as the constructor set it: this field's value could not be read back here.
                    }
                }
            }

            if (trace is not null)
            {
                Read(() => ExceptionDispatchInfo.SetRemoteStackTrace(error, trace));
            }
        }

        foreach ((object key, object? value) in data)
        {
            Read(() => error.Data[key] = value);
        }

        return error;
    }

    private static void WriteData(ref MessagePackWriter writer, Exception error, MessagePackSerializerOptions options)
    {
        List<(byte[] Key, byte[] Value)> entries = [];
        System.Collections.IDictionary? data = Read(() => error.Data);
        if (data is { Count: > 0 })
        {
            foreach (System.Collections.DictionaryEntry entry in data)
            {
                byte[]? key = Read(() => Nested(typeof(object), entry.Key, options));
                byte[]? value = Read(() => Nested(typeof(object), entry.Value, options));
                if (key is not null && value is not null)
                {
                    entries.Add((key, value));
                }
            }
        }

        writer.WriteArrayHeader(entries.Count);
        foreach ((byte[] key, byte[] value) in entries)
        {
            writer.WriteArrayHeader(2);
            writer.WriteRaw(key);
            writer.WriteRaw(value);
        }
    }

    private static List<(object Key, object? Value)> ReadData(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        List<(object Key, object? Value)> data = [];
        int count = reader.ReadArrayHeader();
        for (int i = 0; i < count; i++)
        {
            reader.ReadArrayHeader();
            ReadOnlySequence<byte> key = reader.ReadRaw();
            ReadOnlySequence<byte> value = reader.ReadRaw();
            object? k = Read(() => MessagePackSerializer.Deserialize<object>(key, options));
            if (k is not null)
            {
                data.Add((k, Read(() => MessagePackSerializer.Deserialize<object>(value, options))));
            }
        }

        return data;
    }

    /// <summary>A fresh instance: by a constructor if one works, else uninitialized (its fields are restored next).</summary>
    private static Exception? Create(Type type, string? message, Exception? inner)
    {
        object?[][] attempts = [[], [message ?? string.Empty], [message ?? string.Empty, inner]];
        foreach (object?[] arguments in attempts)
        {
            Exception? made = Read(() => Activator.CreateInstance(type, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, arguments, null) as Exception);
            if (made is not null)
            {
                return made;
            }
        }

        return Read(() => RuntimeHelpers.GetUninitializedObject(type) as Exception);
    }

    private static void Set(FieldInfo? field, Exception error, object? value)
    {
        if (field is not null)
        {
            Read(() =>
            {
                field.SetValue(error, value);
                return true;
            });
        }
    }

    /// <summary>Instance fields declared by the exception's own types, below <see cref="Exception"/>.</summary>
    private static IEnumerable<FieldInfo> OwnFields(Type type)
    {
        const BindingFlags Declared = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (Type? t = type; t is not null && t != typeof(Exception); t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(Declared))
            {
                if (!field.IsDefined(typeof(NonSerializedAttribute), inherit: false) && !TransferPolicy.IsRefused(field.FieldType, out _))
                {
                    yield return field;
                }
            }
        }
    }

    /// <summary>
    /// One value on its own: through a writer of our own, since MessagePack's byte[] overloads share one scratch
    /// buffer per thread, which a nested call would overwrite under the exception being written.
    /// </summary>
    private static byte[] Nested(Type type, object? value, MessagePackSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        MessagePackSerializer.Serialize(type, ref writer, value, options);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static string Key(FieldInfo field) => $"{field.DeclaringType!.Name}.{field.Name}";
}

/// <summary>Writes and reads any exception as <see cref="ExceptionPayload"/> describes: exceptions are values that travel.</summary>
internal sealed class ExceptionFormatter<T> : IMessagePackFormatter<T>
    where T : Exception
{
    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        ExceptionPayload.Write(ref writer, value, options);
    }

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        Exception error = ExceptionPayload.Read(ref reader, options);
        return error as T ?? throw new PayloadSerializationException(
            $"an exception of type {(error as RemoteException)?.RemoteType ?? error.GetType().FullName} cannot be loaded here as {Display.TypeName(typeof(T))}.");
    }
}
