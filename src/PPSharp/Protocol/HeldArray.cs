using System.Buffers;
using System.Runtime.InteropServices;

namespace PPSharp.Protocol;

/// <summary>
/// A large array from <see cref="LargeArrays"/> read by several holders at once (a job's body: its job, and each
/// frame of it queued on a connection), handed out as the <see cref="ReadOnlyMemory{T}"/> over it; the array goes back
/// when the last hold is released. Found again from that memory (<see cref="Hold"/>, <see cref="Release"/>), so what
/// keeps the body keeps no extra field: a queued job with a small body pays nothing for this.
/// </summary>
/// <remarks>
/// A hold that is never released (a frame dropped with its closed connection) leaves the array to the collector,
/// which is always safe; releasing one hold too many would hand the array to the next large frame while something
/// still reads it, so every <see cref="Release"/> answers one <see cref="Hold"/>, or the creator's own first hold.
/// </remarks>
internal sealed class HeldArray : MemoryManager<byte>
{
    private readonly byte[] _array;
    private readonly int _length;
    private readonly LargeArrays _home;
    private int _holds = 1;

    private HeldArray(byte[] array, int length, LargeArrays home)
    {
        _array = array;
        _length = length;
        _home = home;
    }

    /// <summary>
    /// <paramref name="owned"/> (bytes its caller alone holds, at the start of their array) as memory that carries
    /// holds, with one hold for the caller, when it is large (above <see cref="LargeArrays.LargeAbove"/>); a small one
    /// as it is, for the collector.
    /// </summary>
    public static ReadOnlyMemory<byte> Take(ReadOnlyMemory<byte> owned, LargeArrays home) =>
        LargeArrays.TryGetLargeArray(owned, out byte[]? array) ? new HeldArray(array, owned.Length, home).Memory : owned;

    /// <summary>Adds a hold on <paramref name="bytes"/>' array, if it is a held one.</summary>
    public static void Hold(ReadOnlyMemory<byte> bytes)
    {
        if (MemoryMarshal.TryGetMemoryManager(bytes, out HeldArray? held))
        {
            Interlocked.Increment(ref held._holds);
        }
    }

    /// <summary>Releases one hold on <paramref name="bytes"/>' array, if it is a held one; the last gives the array back.</summary>
    public static void Release(ReadOnlyMemory<byte> bytes)
    {
        if (MemoryMarshal.TryGetMemoryManager(bytes, out HeldArray? held) && Interlocked.Decrement(ref held._holds) == 0)
        {
            held._home.Return(held._array);
        }
    }

    public override Span<byte> GetSpan() => _array.AsSpan(0, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => _array.AsMemory(elementIndex).Pin();

    public override void Unpin()
    {
    }

    protected override bool TryGetArray(out ArraySegment<byte> segment)
    {
        segment = new ArraySegment<byte>(_array, 0, _length);
        return true;
    }

    protected override void Dispose(bool disposing)
    {
    }
}
