using System.Buffers;

namespace PPSharp.Protocol;

/// <summary>
/// A growable buffer writer over arrays rented from <see cref="ArrayPool{T}.Shared"/>, up to a size limit (<see cref="Rent"/>).
/// Not thread-safe.
/// </summary>
/// <param name="poolLimit">
/// Arrays above this size do not pass through the shared pool, which keeps what it is given for the life of the
/// process (up to 32 arrays of each size per core, trimmed only by a full collection under memory pressure): they come
/// from <see cref="LargeArrays"/>, which keeps a few with a cap for the whole process. No limit by default: a worker
/// reuses its one large answer buffer, job after job.
/// </param>
internal sealed class PooledBufferWriter(int poolLimit = int.MaxValue) : IBufferWriter<byte>
{
    /// <summary>An array of at least <paramref name="size"/> bytes: from the shared pool up to <paramref name="poolLimit"/>, from <see cref="LargeArrays"/> above.</summary>
    public static byte[] Rent(int size, int poolLimit) => size <= poolLimit ? ArrayPool<byte>.Shared.Rent(size) : LargeArrays.Shared.Rent(size);

    /// <summary>Gives back an array from <see cref="Rent"/> with the same limit: to the pool it came from.</summary>
    public static void Return(byte[] array, int poolLimit)
    {
        if (array.Length > poolLimit)
        {
            LargeArrays.Shared.Return(array);
        }
        else if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>
    /// Copies <paramref name="bytes"/> into <paramref name="writer"/>. Into a <see cref="PooledBufferWriter"/>, room for all
    /// of it is made at once: <see cref="BuffersExtensions.Write{T}(IBufferWriter{T}, ReadOnlySpan{T})"/> asks for room
    /// piece by piece, and the buffer would double its way up, an 8 MiB body passing through arrays of 2, 4, 8 and
    /// 16 MiB. Other writers (a connection's pipe) take it in their own pieces.
    /// </summary>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        if (writer is PooledBufferWriter pooled && bytes.Length > 0)
        {
            bytes.CopyTo(pooled.GetSpan(bytes.Length));
            pooled.Advance(bytes.Length);
        }
        else
        {
            writer.Write(bytes);
        }
    }

    private const int Slack = 4096;

    private byte[] _buffer = [];
    private int _written;

    public int WrittenCount => _written;

    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>What has been written, to patch in place (a header filled in after its payload).</summary>
    public Span<byte> Written => _buffer.AsSpan(0, _written);

    public void Reset() => _written = 0;

    /// <summary>Forgets what was written after <paramref name="count"/> bytes.</summary>
    public void Truncate(int count) => _written = Math.Min(_written, count);

    /// <summary>
    /// Hands over what was written with the array under it, which the caller now owns alone; the writer starts empty
    /// again, without an array. For a large body kept as it was written instead of copied out.
    /// </summary>
    public ReadOnlyMemory<byte> Detach()
    {
        ReadOnlyMemory<byte> written = _buffer.AsMemory(0, _written);
        _buffer = [];
        _written = 0;
        return written;
    }

    /// <summary>Returns the array to the pool; the writer starts empty again.</summary>
    public void Release()
    {
        byte[] old = _buffer;
        _buffer = [];
        _written = 0;
        Return(old, poolLimit);
    }

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        // Above the pool limit with room to spare: a sealed record's tag, appended after its one large frame, must not
        // grow the buffer again (the pool's arrays are rounded up to a power of two anyway).
        long wanted = needed > poolLimit ? (long)needed + Slack : needed;
        int size = (int)Math.Min(Array.MaxLength, Math.Max(wanted, Math.Max(256L, (long)_buffer.Length * 2)));
        if (size < needed)
        {
            throw new InvalidOperationException("A frame payload cannot exceed the largest array.");
        }

        byte[] grown = Rent(size, poolLimit);
        _buffer.AsSpan(0, _written).CopyTo(grown);
        byte[] old = _buffer;
        _buffer = grown;
        Return(old, poolLimit);
    }
}
