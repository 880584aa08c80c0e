using MessagePack;
using MessagePack.Formatters;

namespace PPSharp.Serialization;

/// <summary>The formatter for types <see cref="TransferPolicy"/> refuses: any attempt names the type and the reason.</summary>
internal sealed class RefusingFormatter<T>(string reason) : IMessagePackFormatter<T>
{
    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        throw new PayloadSerializationException(
            $"a value of type {Display.TypeName(value.GetType())} cannot be sent to another process: {reason}.");
    }

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return default!;
        }

        throw new PayloadSerializationException($"a value of type {Display.TypeName(typeof(T))} cannot be received: {reason}.");
    }
}
