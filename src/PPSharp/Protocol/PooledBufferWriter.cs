using System.Buffers;

namespace PPSharp.Protocol;

/// <summary>
/// A growable buffer writer over arrays rented from <see cref="ArrayPool{T}.Shared"/>, up to a size limit (<see cref="Rent"/>).
/// Not thread-safe.
/// </summary>
/// <param name="poolLimit">
/// Arrays above this size are allocated and left to the collector instead of passing through the shared pool, which
/// keeps what it is given for the life of the process (up to 32 arrays of each size per core, trimmed only by a full
/// collection under memory pressure). No limit by default: a worker reuses its one large answer buffer, job after job.
/// </param>
internal sealed class PooledBufferWriter(int poolLimit = int.MaxValue) : IBufferWriter<byte>
{
    /// <summary>An array of at least <paramref name="size"/> bytes: pooled up to <paramref name="poolLimit"/>, fresh above.</summary>
    public static byte[] Rent(int size, int poolLimit) => size <= poolLimit ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    /// <summary>Gives back an array from <see cref="Rent"/> with the same limit: to the pool if it came from it, else to the collector.</summary>
    public static void Return(byte[] array, int poolLimit)
    {
        if (array.Length > 0 && array.Length <= poolLimit)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

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

        int size = (int)Math.Min(Array.MaxLength, Math.Max((long)needed, Math.Max(256L, (long)_buffer.Length * 2)));
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
