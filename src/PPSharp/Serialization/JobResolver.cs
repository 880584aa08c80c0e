using System.Reflection;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace PPSharp.Serialization;

/// <summary>
/// Picks a formatter for every type a job may carry: MessagePack's own for primitives, strings, arrays, collections,
/// tuples, enums and <c>[MessagePackObject]</c> types (objects of
/// reference types numbered, so shared ones stay shared: <see cref="ReferenceTable"/>); <see cref="GraphFormatter{T}"/> (all instance fields, private
/// ones included, like ppft's pickling of objects) for every other class, struct or record; a type-tagged formatter
/// for <see cref="object"/>, interfaces and abstract classes; and a refusing formatter for what cannot leave a process.
/// </summary>
internal sealed class JobResolver : IFormatterResolver
{
    public static readonly JobResolver Instance = new();

    private static readonly IFormatterResolver[] Chain =
    [
        NativeDateTimeResolver.Instance, // keeps DateTime.Kind, which the default timestamp format loses
        BuiltinResolver.Instance,
        AttributeFormatterResolver.Instance,
        DynamicGenericResolver.Instance,
    ];

    private JobResolver()
    {
    }

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T> Formatter = Create();

        private static IMessagePackFormatter<T> Create()
        {
            Type type = typeof(T);
            if (type == typeof(CancellationToken))
            {
                return (IMessagePackFormatter<T>)(object)JobTokenFormatter.Instance; // the job's own token where it runs
            }

            if (typeof(Exception).IsAssignableFrom(type))
            {
                // Before the transfer policy: an exception travels as its description, whatever its namespace.
                return (IMessagePackFormatter<T>)Activator.CreateInstance(typeof(ExceptionFormatter<>).MakeGenericType(type))!;
            }

            if (TransferPolicy.IsRefused(type, out string? reason))
            {
                return new RefusingFormatter<T>(reason);
            }

            if (ValueFormatters.Find<T>() is { } value)
            {
                return Tracked(value);
            }

            if (type == typeof(object))
            {
                return new PolymorphicFormatter<T>();
            }

            if (type.IsInterface || (type.IsAbstract && !type.IsSealed))
            {
                IMessagePackFormatter<T>? collection = FromChain();
                return collection is null ? new PolymorphicFormatter<T>() : Tracked(collection);
            }

            if (type.IsEnum)
            {
                // MessagePack's generic enum formatter needs no generated code (DynamicEnumResolver does).
                return (IMessagePackFormatter<T>)Activator.CreateInstance(typeof(GenericEnumFormatter<>).MakeGenericType(type))!;
            }

            IMessagePackFormatter<T>? known = FromChain();
            if (known is not null)
            {
                return Tracked(known);
            }

            if (type.GetCustomAttribute<MessagePackObjectAttribute>() is not null && System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            {
                return Tracked(DynamicObjectResolver.Instance.GetFormatterWithVerify<T>());
            }

            return new GraphFormatter<T>();
        }

        /// <summary>Objects of reference types keep their identity within a value (<see cref="ReferenceTable"/>).</summary>
        private static IMessagePackFormatter<T> Tracked(IMessagePackFormatter<T> formatter) =>
            TrackingFormatter<T>.Applies ? new TrackingFormatter<T>(formatter) : formatter;

        private static IMessagePackFormatter<T>? FromChain()
        {
            foreach (IFormatterResolver resolver in Chain)
            {
                IMessagePackFormatter<T>? formatter = resolver.GetFormatter<T>();
                if (formatter is not null)
                {
                    return formatter;
                }
            }

            return null;
        }
    }
}
