using System.Collections.Immutable;
using System.Numerics;
using MessagePack;
using MessagePack.Formatters;

namespace PPSharp.Serialization;

/// <summary>
/// Formatters for values MessagePack's own resolvers get wrong or cannot make: <see cref="BigInteger"/> (its built-in
/// formatter fails on large values) and the immutable collections (which have no public constructor to fill, and
/// whose hash-based kinds must be rebuilt, not copied field by field, since string hash codes differ per process); and
/// <c>byte[]</c>, whose built-in formatter zeroes each new array before copying into it.
/// </summary>
internal static class ValueFormatters
{
    private static readonly Dictionary<Type, Type> ImmutableKinds = new()
    {
        [typeof(ImmutableList<>)] = typeof(ImmutableListFactory<>),
        [typeof(ImmutableHashSet<>)] = typeof(ImmutableHashSetFactory<>),
        [typeof(ImmutableSortedSet<>)] = typeof(ImmutableSortedSetFactory<>),
        [typeof(ImmutableQueue<>)] = typeof(ImmutableQueueFactory<>),
        [typeof(ImmutableStack<>)] = typeof(ImmutableStackFactory<>),
        [typeof(ImmutableDictionary<,>)] = typeof(ImmutableDictionaryFactory<,>),
        [typeof(ImmutableSortedDictionary<,>)] = typeof(ImmutableSortedDictionaryFactory<,>),
    };

    /// <summary>A formatter for <typeparamref name="T"/> if it is one of the types this class handles, else null.</summary>
    public static IMessagePackFormatter<T>? Find<T>()
    {
        Type type = typeof(T);
        if (type == typeof(BigInteger))
        {
            return (IMessagePackFormatter<T>)(object)new BigIntegerFormatter();
        }

        if (type == typeof(byte[]))
        {
            return (IMessagePackFormatter<T>)(object)new ByteArrayFormatter();
        }

        if (type.IsGenericType && ImmutableKinds.TryGetValue(type.GetGenericTypeDefinition(), out Type? factory))
        {
            return (IMessagePackFormatter<T>)Activator.CreateInstance(factory.MakeGenericType(type.GetGenericArguments()))!;
        }

        return null;
    }

    /// <summary>A <see cref="BigInteger"/> as bin: its two's-complement bytes, little-endian.</summary>
    private sealed class BigIntegerFormatter : IMessagePackFormatter<BigInteger>
    {
        public void Serialize(ref MessagePackWriter writer, BigInteger value, MessagePackSerializerOptions options) =>
            writer.Write(value.ToByteArray());

        public BigInteger Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            new(reader.ReadBytes() is { } bytes ? System.Buffers.BuffersExtensions.ToArray(bytes) : []);
    }

    /// <summary>
    /// <c>byte[]</c> as bin, as MessagePack's own formatter writes it; read into an array that is not zeroed first,
    /// since every byte of it is then copied in (an 8 MiB result: 8 MiB of memory written once, not twice).
    /// </summary>
    private sealed class ByteArrayFormatter : IMessagePackFormatter<byte[]?>
    {
        public void Serialize(ref MessagePackWriter writer, byte[]? value, MessagePackSerializerOptions options) => writer.Write(value);

        public byte[]? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.ReadBytes() is not { } bytes)
            {
                return null;
            }

            byte[] array = GC.AllocateUninitializedArray<byte>(checked((int)bytes.Length));
            System.Buffers.BuffersExtensions.CopyTo(bytes, array);
            return array;
        }
    }

    /// <summary>An immutable collection as an array of its elements, in enumeration order; rebuilt by its factory.</summary>
    private abstract class ImmutableFormatter<TCollection, TElement> : IMessagePackFormatter<TCollection>
        where TCollection : IEnumerable<TElement>
    {
        public void Serialize(ref MessagePackWriter writer, TCollection value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            TElement[] items = [.. value];
            IMessagePackFormatter<TElement> formatter = options.Resolver.GetFormatterWithVerify<TElement>();
            writer.WriteArrayHeader(items.Length);
            foreach (TElement item in items)
            {
                formatter.Serialize(ref writer, item, options);
            }
        }

        public TCollection Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil())
            {
                return default!;
            }

            IMessagePackFormatter<TElement> formatter = options.Resolver.GetFormatterWithVerify<TElement>();
            var items = new TElement[reader.ReadArrayHeader()];
            options.Security.DepthStep(ref reader);
            try
            {
                for (int i = 0; i < items.Length; i++)
                {
                    items[i] = formatter.Deserialize(ref reader, options);
                }
            }
            finally
            {
                reader.Depth--;
            }

            return Create(items);
        }

        protected abstract TCollection Create(TElement[] items);
    }

    private sealed class ImmutableListFactory<T> : ImmutableFormatter<ImmutableList<T>, T>
    {
        protected override ImmutableList<T> Create(T[] items) => ImmutableList.CreateRange(items);
    }

    private sealed class ImmutableHashSetFactory<T> : ImmutableFormatter<ImmutableHashSet<T>, T>
    {
        protected override ImmutableHashSet<T> Create(T[] items) => ImmutableHashSet.CreateRange(items);
    }

    private sealed class ImmutableSortedSetFactory<T> : ImmutableFormatter<ImmutableSortedSet<T>, T>
    {
        protected override ImmutableSortedSet<T> Create(T[] items) => ImmutableSortedSet.CreateRange(items);
    }

    private sealed class ImmutableQueueFactory<T> : ImmutableFormatter<ImmutableQueue<T>, T>
    {
        protected override ImmutableQueue<T> Create(T[] items) => ImmutableQueue.CreateRange(items);
    }

    private sealed class ImmutableStackFactory<T> : ImmutableFormatter<ImmutableStack<T>, T>
    {
        // A stack enumerates from its top; pushing in reverse puts the top back on top.
        protected override ImmutableStack<T> Create(T[] items) => ImmutableStack.CreateRange(items.Reverse());
    }

    private sealed class ImmutableDictionaryFactory<TKey, TValue> : ImmutableFormatter<ImmutableDictionary<TKey, TValue>, KeyValuePair<TKey, TValue>>
        where TKey : notnull
    {
        protected override ImmutableDictionary<TKey, TValue> Create(KeyValuePair<TKey, TValue>[] items) => ImmutableDictionary.CreateRange(items);
    }

    private sealed class ImmutableSortedDictionaryFactory<TKey, TValue> : ImmutableFormatter<ImmutableSortedDictionary<TKey, TValue>, KeyValuePair<TKey, TValue>>
        where TKey : notnull
    {
        protected override ImmutableSortedDictionary<TKey, TValue> Create(KeyValuePair<TKey, TValue>[] items) => ImmutableSortedDictionary.CreateRange(items);
    }
}
