using MessagePack;
using PPSharp.Serialization;

namespace PPSharp.Tests.Values;

/// <summary>In-memory checks of object identity within a value (no worker): what is written, and what a bad reference reads as.</summary>
public sealed class ReferenceTableTests
{
    private static T RoundTrip<T>(T value) =>
        MessagePackSerializer.Deserialize<T>(MessagePackSerializer.Serialize(value, JobSerializerOptions.Local), JobSerializerOptions.Local);

    [Fact]
    public void ASharedObject_IsWrittenOnce()
    {
        var big = new Node { Value = 1, Tag = new string('x', 10_000) };
        byte[] once = MessagePackSerializer.Serialize(new Pair(big, new Node()), JobSerializerOptions.Local);
        byte[] twice = MessagePackSerializer.Serialize(new Pair(big, big), JobSerializerOptions.Local);

        Assert.True(twice.Length < once.Length + 16, $"{twice.Length} bytes for the shared pair, {once.Length} for the single one");
        Pair back = RoundTrip(new Pair(big, big));
        Assert.Same(back.First, back.Second);
    }

    [Fact]
    public void ValuesWrittenOneAfterAnother_DoNotShareNumbers()
    {
        var node = new Node { Value = 3 };
        Node first = RoundTrip(node);
        Node second = RoundTrip(node); // a second top-level value starts its own numbering

        Assert.Equal(3, second.Value);
        Assert.NotSame(first, second);
    }

    [Fact]
    public void SharedArraysAndDictionaries_StayShared_InAnObjectField()
    {
        int[] numbers = [1, 2, 3];
        var map = new Dictionary<string, int[]> { ["a"] = numbers, ["b"] = numbers };

        Dictionary<string, int[]> back = RoundTrip(map);

        Assert.Same(back["a"], back["b"]);
        Assert.Equal(numbers, back["a"]);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(-1)]
    public void AReferenceToAnUndefinedObject_IsAClearError(int id)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.WriteArrayHeader(3);
        writer.Write(1);
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteExtensionFormatHeader(new ExtensionHeader(ReferenceTable.ExtensionCode, 4));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(writer.GetSpan(4), id);
        writer.Advance(4);
        writer.Flush();

        var error = Assert.ThrowsAny<Exception>(() => MessagePackSerializer.Deserialize<Pair>(buffer.WrittenMemory, JobSerializerOptions.Local));

        Assert.Contains("has not defined", PayloadSerializationException.Find(error)?.Message ?? error.ToString());
        Assert.Equal(5, RoundTrip(new Node { Value = 5 }).Value); // the thread's table is clean again
    }

    [Fact]
    public void AReferenceToAnObjectOfAnotherType_IsAClearError()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.WriteArrayHeader(3); // First (object 1): a Node whose Tag (object 2) is an int[]
        writer.Write(1);
        writer.WriteNil();
        writer.WriteArrayHeader(2);
        writer.Write(TypeLoader.GetName(typeof(int[])));
        writer.WriteArrayHeader(0);
        writer.WriteExtensionFormatHeader(new ExtensionHeader(ReferenceTable.ExtensionCode, 4)); // Second: object 2, the int[]
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(writer.GetSpan(4), 2);
        writer.Advance(4);
        writer.Flush();

        var error = Assert.ThrowsAny<Exception>(() => MessagePackSerializer.Deserialize<Pair>(buffer.WrittenMemory, JobSerializerOptions.Local));

        Assert.Contains("Node was expected", PayloadSerializationException.Find(error)?.Message ?? error.ToString());
    }
}
