using System.Runtime.CompilerServices;
using MessagePack;
using MessagePack.Formatters;

namespace PPSharp.Serialization;

/// <summary>
/// Serializes a class, struct or record that carries no MessagePack attributes by its instance fields, private and
/// readonly ones included (so get-only properties set by a constructor survive), as ppft pickles objects.
/// </summary>
/// <remarks>
/// Encoding: a struct or sealed class is an array of its field values. A class that can have subclasses is
/// <c>[nil, [fields...]]</c> when the value is exactly <typeparamref name="T"/>, or <c>[type name, value]</c> when it is a
/// subclass, so a <c>Dog</c> in an <c>Animal</c> field stays a <c>Dog</c>. An object met again in the same value is
/// written as a reference, so shared objects and cycles arrive as they were (see <see cref="ReferenceTable"/>); depth
/// has no fixed limit (see <see cref="DeepStack"/>).
/// </remarks>
internal sealed class GraphFormatter<T> : IMessagePackFormatter<T>
{
    private static readonly bool IsPolymorphic = !typeof(T).IsValueType && !typeof(T).IsSealed;
    private readonly FieldSlot[] _slots = FieldSlot.ForType(typeof(T));

    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        object boxed = value;
        bool reference = !typeof(T).IsValueType;
        if (reference && ReferenceTable.TryWriteReference(ref writer, boxed, unfinishedIsCycle: false))
        {
            return;
        }

        DeepStack.Check();
        if (IsPolymorphic && boxed.GetType() != typeof(T))
        {
            writer.WriteArrayHeader(2);
            PolymorphicFormatter<object>.WriteTagged(ref writer, boxed, boxed.GetType(), options); // numbered by its own type's formatter
            return;
        }

        if (reference)
        {
            ReferenceTable.BeginWrite(boxed, unfinishedIsCycle: false);
        }

        try
        {
            if (IsPolymorphic)
            {
                writer.WriteArrayHeader(2);
                writer.WriteNil();
            }

            writer.WriteArrayHeader(_slots.Length);
            foreach (FieldSlot slot in _slots)
            {
                slot.Write(boxed, ref writer, options);
            }
        }
        finally
        {
            if (reference)
            {
                ReferenceTable.EndWrite(boxed, unfinishedIsCycle: false);
            }
        }
    }

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return default!;
        }

        bool reference = !typeof(T).IsValueType;
        if (reference && ReferenceTable.TryReadReference(ref reader, out T earlier))
        {
            return earlier;
        }

        options.Security.DepthStep(ref reader);
        DeepStack.Check();
        try
        {
            if (IsPolymorphic)
            {
                Expect(reader.ReadArrayHeader(), 2);
                if (!reader.TryReadNil())
                {
                    return (T)PolymorphicFormatter<object>.ReadTagged(ref reader, options)!;
                }
            }

            Expect(reader.ReadArrayHeader(), _slots.Length);
            object boxed = RuntimeHelpers.GetUninitializedObject(typeof(T));
            int id = reference ? ReferenceTable.BeginRead(boxed) : -1; // numbered before its fields: a field may refer back to it
            try
            {
                foreach (FieldSlot slot in _slots)
                {
                    slot.Read(boxed, ref reader, options);
                }
            }
            finally
            {
                if (reference)
                {
                    ReferenceTable.EndRead(id, null);
                }
            }

            return (T)boxed;
        }
        finally
        {
            reader.Depth--;
        }
    }

    private static void Expect(int actual, int expected)
    {
        if (actual != expected)
        {
            throw new PayloadSerializationException(
                $"the data for {Display.TypeName(typeof(T))} has {actual} fields where {expected} were expected (different versions of the type on each side?).");
        }
    }
}

/// <summary>
/// For values whose declared type does not say what they are (<see cref="object"/>, interfaces, abstract classes):
/// <c>nil</c> or <c>[type name, value]</c>, the value written by the formatter of its runtime type.
/// </summary>
internal sealed class PolymorphicFormatter<T> : IMessagePackFormatter<T>
{
    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(2);
        WriteTagged(ref writer, value, value.GetType(), options);
    }

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return default!;
        }

        if (reader.ReadArrayHeader() != 2)
        {
            throw new PayloadSerializationException($"malformed data for a value of type {Display.TypeName(typeof(T))}.");
        }

        return (T)ReadTagged(ref reader, options)!;
    }

    /// <summary>Writes the two elements after the array header: the runtime type's name, then the value.</summary>
    internal static void WriteTagged(ref MessagePackWriter writer, object value, Type runtime, MessagePackSerializerOptions options)
    {
        if (TransferPolicy.IsRefused(runtime, out string? reason))
        {
            throw new PayloadSerializationException(
                $"a value of type {Display.TypeName(runtime)} cannot be sent to another process: {reason}.");
        }

        writer.Write(TypeLoader.GetName(runtime));
        MessagePackSerializer.Serialize(runtime, ref writer, value, options);
    }

    internal static object? ReadTagged(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        string name = reader.ReadString() ?? throw new PayloadSerializationException("a polymorphic value carries no type name.");
        Type runtime = JobSerializerOptions.TypesOf(options).Load(name);
        return MessagePackSerializer.Deserialize(runtime, ref reader, options);
    }
}
