using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MessagePack;

namespace PPSharp.Serialization;

/// <summary>
/// Keeps object identity within one value, as ppft's pickling does: an object reachable twice is written once and
/// then referred to by its number, so it arrives as one object again, and a cycle through objects (a doubly linked
/// list, a tree whose nodes know their parent) arrives as the same cycle.
/// </summary>
/// <remarks>
/// <para>
/// Every object of a reference type other than <see cref="string"/> (whose identity nobody can observe) is numbered
/// in the order it is first written; a later occurrence is written as a MessagePack extension (type
/// <see cref="ExtensionCode"/>, a 4-byte big-endian number). The reader numbers objects in the same order: a class
/// read field by field (<see cref="GraphFormatter{T}"/>) is numbered as soon as it exists, before its fields are read,
/// so a reference back to it from inside is resolved; a collection (<see cref="TrackingFormatter{T}"/>) exists only
/// once all its items are read, so a collection that contains itself is refused when it is written.
/// </para>
/// <para>
/// A scope is one value: each argument, result or map item on its own (the table clears when the outermost formatter
/// returns), or a whole job body (the function's target and all its arguments) inside <see cref="WriteScope"/> and <see cref="ReadScope"/>, so an
/// object passed in two arguments stays one object. Writer and reader open the same scopes. The tables are per thread:
/// a value is written and read on one thread (see <see cref="DeepStack"/>, which starts a value over on another).
/// </para>
/// </remarks>
internal static class ReferenceTable
{
    /// <summary>The MessagePack extension type of a reference to an object written earlier in the same value.</summary>
    public const sbyte ExtensionCode = 80;

    /// <summary>Tables that grew past this are dropped rather than cleared, so one huge value does not pin memory.</summary>
    private const int KeptCapacity = 4096;

    /// <summary>Marks a collection being read: it gets its number before its items, but exists only after them.</summary>
    private static readonly object Unfinished = new();

    [ThreadStatic]
    private static Writing? t_writing;

    [ThreadStatic]
    private static Reading? t_reading;

    /// <summary>
    /// Opens a scope that spans several values written on this thread (a job's target and arguments). Dispose it when
    /// the last one is written; the reader opens the same scope with <see cref="ReadScope"/>.
    /// </summary>
    public static ScopeHandle WriteScope()
    {
        (t_writing ??= new Writing()).Depth++;
        return new ScopeHandle(writing: true);
    }

    /// <summary>Opens a scope that spans several values read on this thread: the reading side of <see cref="WriteScope"/>.</summary>
    public static ScopeHandle ReadScope()
    {
        (t_reading ??= new Reading()).Depth++;
        return new ScopeHandle(writing: false);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as a reference and returns true if it was written before in this scope;
    /// otherwise returns false, and the caller writes it in full between <see cref="BeginWrite"/> and
    /// <see cref="EndWrite"/>.
    /// </summary>
    /// <param name="writer">Where the reference goes.</param>
    /// <param name="value">The object about to be written.</param>
    /// <param name="unfinishedIsCycle">
    /// True for collections: meeting one again while its items are still being written is a cycle the reader could not
    /// rebuild, so it is refused.
    /// </param>
    public static bool TryWriteReference(ref MessagePackWriter writer, object value, bool unfinishedIsCycle)
    {
        Writing? table = t_writing;
        if (table is null || !table.Ids.TryGetValue(value, out int id))
        {
            return false;
        }

        if (unfinishedIsCycle && table.Open.Contains(id))
        {
            throw new PayloadSerializationException(
                $"the object graph has a cycle through a {Display.TypeName(value.GetType())} that contains itself; a collection cannot be sent inside itself (a cycle through objects of your own classes can).");
        }

        writer.WriteExtensionFormatHeader(new ExtensionHeader(ExtensionCode, 4));
        BinaryPrimitives.WriteInt32BigEndian(writer.GetSpan(4), id);
        writer.Advance(4);
        return true;
    }

    /// <summary>Numbers an object about to be written in full.</summary>
    public static void BeginWrite(object value, bool unfinishedIsCycle)
    {
        Writing table = t_writing ??= new Writing();
        int id = table.Ids.Count;
        table.Ids.Add(value, id);
        if (unfinishedIsCycle)
        {
            table.Open.Add(id);
        }

        table.Depth++;
    }

    /// <summary>Ends the full write begun when <see cref="TryWriteReference"/> returned false (call it in a finally).</summary>
    public static void EndWrite(object value, bool unfinishedIsCycle)
    {
        Writing table = t_writing!;
        if (unfinishedIsCycle && table.Ids.TryGetValue(value, out int id))
        {
            table.Open.Remove(id);
        }

        if (--table.Depth == 0)
        {
            table.Clear();
        }
    }

    /// <summary>
    /// If the next value is a reference, reads it and returns the object it names (true); otherwise returns false and
    /// the caller reads the value in full, between <see cref="BeginRead"/> and <see cref="EndRead"/>.
    /// </summary>
    public static bool TryReadReference<T>(ref MessagePackReader reader, out T value)
    {
        if (reader.NextMessagePackType != MessagePackType.Extension)
        {
            value = default!;
            return false;
        }

        MessagePackReader peek = reader.CreatePeekReader();
        ExtensionHeader header = peek.ReadExtensionFormatHeader();
        if (header.TypeCode != ExtensionCode)
        {
            value = default!;
            return false;
        }

        if (header.Length != 4)
        {
            throw new PayloadSerializationException($"a reference to an earlier object has {header.Length} bytes where 4 were expected.");
        }

        reader.ReadExtensionFormatHeader();
        Span<byte> number = stackalloc byte[4];
        reader.ReadRaw(4).CopyTo(number);
        int id = BinaryPrimitives.ReadInt32BigEndian(number);
        List<object?>? objects = t_reading?.Objects;
        if (objects is null || (uint)id >= (uint)objects.Count)
        {
            throw new PayloadSerializationException($"a reference names object {id}, which the data has not defined.");
        }

        object? found = objects[id];
        if (ReferenceEquals(found, Unfinished))
        {
            throw new PayloadSerializationException("a reference names a collection from inside itself; the data is malformed.");
        }

        if (found is not T typed)
        {
            throw new PayloadSerializationException(
                $"a reference names an object of type {Display.TypeName(found?.GetType() ?? typeof(object))} where a {Display.TypeName(typeof(T))} was expected.");
        }

        value = typed;
        return true;
    }

    /// <summary>
    /// Gives the next number to an object about to be read. <paramref name="value"/> is the object when it exists
    /// before its contents (a class read field by field), or null for one that exists only after (a collection):
    /// <see cref="EndRead"/> then fills its place.
    /// </summary>
    public static int BeginRead(object? value)
    {
        Reading table = t_reading ??= new Reading();
        table.Objects.Add(value ?? Unfinished);
        table.Depth++;
        return table.Objects.Count - 1;
    }

    /// <summary>Ends a read begun with <see cref="BeginRead"/>; <paramref name="value"/> fills a collection's place (call in a finally).</summary>
    public static void EndRead(int id, object? value)
    {
        Reading table = t_reading!;
        if (value is not null && id < table.Objects.Count)
        {
            table.Objects[id] = value;
        }

        if (--table.Depth == 0)
        {
            table.Clear();
        }
    }

    /// <summary>Closes a scope opened by <see cref="WriteScope"/> or <see cref="ReadScope"/>.</summary>
    public readonly struct ScopeHandle(bool writing) : IDisposable
    {
        public void Dispose()
        {
            if (writing)
            {
                if (--t_writing!.Depth == 0)
                {
                    t_writing.Clear();
                }
            }
            else if (--t_reading!.Depth == 0)
            {
                t_reading.Clear();
            }
        }
    }

    private sealed class Writing
    {
        public Dictionary<object, int> Ids = new(ReferenceEqualityComparer.Instance);
        public HashSet<int> Open = [];
        public int Depth;

        public void Clear()
        {
            if (Ids.Count > KeptCapacity)
            {
                Ids = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
            }
            else
            {
                Ids.Clear();
            }

            Open.Clear();
        }
    }

    private sealed class Reading
    {
        public List<object?> Objects = [];
        public int Depth;

        public void Clear()
        {
            if (Objects.Count > KeptCapacity)
            {
                Objects = [];
            }
            else
            {
                Objects.Clear();
            }
        }
    }
}

/// <summary>
/// Gives a formatter of a reference type (a collection, an array, a value type's class such as <see cref="Uri"/>)
/// identity within a value: see <see cref="ReferenceTable"/>.
/// </summary>
internal sealed class TrackingFormatter<T>(MessagePack.Formatters.IMessagePackFormatter<T> inner) : MessagePack.Formatters.IMessagePackFormatter<T>
{
    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        if (ReferenceTable.TryWriteReference(ref writer, value, unfinishedIsCycle: true))
        {
            return;
        }

        ReferenceTable.BeginWrite(value, unfinishedIsCycle: true);
        try
        {
            inner.Serialize(ref writer, value, options);
        }
        finally
        {
            ReferenceTable.EndWrite(value, unfinishedIsCycle: true);
        }
    }

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return default!;
        }

        if (ReferenceTable.TryReadReference(ref reader, out T earlier))
        {
            return earlier;
        }

        int id = ReferenceTable.BeginRead(null);
        T value = default!;
        try
        {
            value = inner.Deserialize(ref reader, options);
            return value;
        }
        finally
        {
            ReferenceTable.EndRead(id, value);
        }
    }

    /// <summary>Whether values of <typeparamref name="T"/> carry an identity worth keeping.</summary>
    public static bool Applies => !typeof(T).IsValueType && typeof(T) != typeof(string);
}
