using System.Buffers;

namespace PPSharp.Protocol;

/// <summary>A growable buffer writer over arrays rented from <see cref="ArrayPool{T}.Shared"/>. Not thread-safe.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>
{
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
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
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

        byte[] grown = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(grown);
        byte[] old = _buffer;
        _buffer = grown;
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }
}
