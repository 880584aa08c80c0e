using System.Buffers;
using System.Runtime.InteropServices;
using PPSharp.Protocol;

namespace PPSharp.Tests.Protocol;

/// <summary>In-memory tests of the capped reuse of large buffers and of bulk writes into pooled buffers.</summary>
public sealed class LargeArraysUnitTests
{
    private const int MiB = 1 << 20;

    [Fact]
    public void AReturnedArray_IsHandedOutAgain_ForARequestItFits()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] first = arrays.Rent(8 * MiB);
        arrays.Return(first);

        Assert.Equal(8 * MiB, arrays.KeptBytes);
        Assert.Same(first, arrays.Rent((8 * MiB) - 100));
        Assert.Equal(0, arrays.KeptBytes);
    }

    [Fact]
    public void AKeptArray_IsNotHandedOut_ForARequestUnderHalfItsSize_OrOverIt()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] kept = arrays.Rent(8 * MiB);
        arrays.Return(kept);

        Assert.NotSame(kept, arrays.Rent(3 * MiB));
        Assert.NotSame(kept, arrays.Rent((8 * MiB) + 1));
        Assert.Equal(8 * MiB, arrays.KeptBytes);
    }

    [Fact]
    public void TheSmallestFittingArray_IsHandedOut()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] large = arrays.Rent(12 * MiB), small = arrays.Rent(7 * MiB);
        arrays.Return(large);
        arrays.Return(small);

        Assert.Same(small, arrays.Rent(6 * MiB));
        Assert.Same(large, arrays.Rent(6 * MiB));
    }

    [Fact]
    public void ACopyOverTheThreshold_LiesInAKeptArray_AndGoesBackWhenReturned()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] kept = arrays.Rent(4 * MiB);
        arrays.Return(kept);
        byte[] source = new byte[(3 * MiB) + 5];
        new Random(7).NextBytes(source);

        ReadOnlyMemory<byte> copy = arrays.Copy(new ReadOnlySequence<byte>(source));

        Assert.True(MemoryMarshal.TryGetArray(copy, out ArraySegment<byte> segment));
        Assert.Same(kept, segment.Array);
        Assert.True(copy.Span.SequenceEqual(source));
        Assert.Equal(0, arrays.KeptBytes);
        arrays.Return(copy);
        Assert.Equal(4 * MiB, arrays.KeptBytes);
    }

    [Fact]
    public void ACopyAtOrUnderTheThreshold_IsAnExactFreshArray_ThatReturnDoesNotKeep()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] kept = arrays.Rent(2 * MiB);
        arrays.Return(kept);
        byte[] source = new byte[LargeArrays.LargeAbove];
        source[^1] = 9;

        ReadOnlyMemory<byte> copy = arrays.Copy(new ReadOnlySequence<byte>(source));

        Assert.True(MemoryMarshal.TryGetArray(copy, out ArraySegment<byte> segment));
        Assert.NotSame(kept, segment.Array);
        Assert.Equal(source.Length, segment.Array!.Length);
        Assert.True(copy.Span.SequenceEqual(source));
        arrays.Return(copy);
        arrays.Return(ReadOnlyMemory<byte>.Empty);
        Assert.Equal(2 * MiB, arrays.KeptBytes);
        Assert.True(arrays.Copy(ReadOnlySequence<byte>.Empty).IsEmpty);
    }

    [Fact]
    public void ASliceThatDoesNotStartAnArray_IsNotKept()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] owner = new byte[4 * MiB];

        arrays.Return(owner.AsMemory(1));

        Assert.Equal(0, arrays.KeptBytes);
    }

    [Fact]
    public void KeptBytes_NeverExceedTheCap_WhateverIsReturned()
    {
        var arrays = new LargeArrays(20 * MiB);
        for (int i = 0; i < 10; i++)
        {
            arrays.Return(new byte[8 * MiB]);
            Assert.True(arrays.KeptBytes <= 20 * MiB, $"{arrays.KeptBytes} bytes kept");
        }

        Assert.Equal(16 * MiB, arrays.KeptBytes);
    }

    [Fact]
    public void ALargeBlockWrittenIntoAPooledBuffer_GrowsItOnce_WithRoomForASealedRecordsTag()
    {
        var buffer = new PooledBufferWriter(MiB);
        buffer.GetSpan(100);
        buffer.Advance(100); // a small frame already staged
        byte[] block = new byte[8 * MiB];
        block[^1] = 42;

        PooledBufferWriter.Write(buffer, block);
        int capacity = buffer.Capacity;
        buffer.GetSpan(FrameProtection.TagSize);

        Assert.Equal(capacity, buffer.Capacity); // the tag fit: no second 8 MiB copy into a 16 MiB array
        Assert.InRange(capacity, (8 * MiB) + 100, 2 * ((8 * MiB) + (64 * 1024))); // fresh, or one kept by LargeArrays.Shared at most twice the size
        Assert.Equal(42, buffer.WrittenSpan[^1]);
        Assert.Equal((8 * MiB) + 100, buffer.WrittenCount);
        buffer.Release();
    }

    [Fact]
    public void ABlockWrittenIntoAnotherWriter_ArrivesWhole()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        byte[] block = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();

        PooledBufferWriter.Write(writer, block);

        Assert.Equal(block, writer.WrittenSpan.ToArray());
    }
}
