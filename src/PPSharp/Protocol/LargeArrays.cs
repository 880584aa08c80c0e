using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace PPSharp.Protocol;

/// <summary>
/// A few large byte arrays kept for reuse across the process, with a cap on the bytes kept: the buffers above a
/// <see cref="PooledBufferWriter"/>'s pool limit (a sealed record of an 8 MiB argument, its opened copy), a job's
/// large body from submission until the job ends, and the large bodies and results copied off a connection
/// (<see cref="Copy"/>).
/// </summary>
/// <remarks>
/// <see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps up to 32 arrays of each size per core for the life of the
/// process: a client that had uploaded 4.6 MB of assemblies to each of 100 nodes held 8.7 MiB per node. Leaving them to the
/// collector instead costs each large frame fresh arrays of its size, and a fresh array is faulted in page by page:
/// filling a fresh 8 MiB array took 7 to 21 ms on this project's virtual machine, filling a reused one 0.2 to 1 ms.
/// So a few are kept, at most <see cref="KeepAtMost"/> bytes in all for the process (<see cref="Shared"/>) whatever
/// the number of connections, and a kept array is handed out only for a request of at least half its size, so a small
/// request never pins a huge array. What is kept stays until the process ends.
/// </remarks>
/// <param name="keepAtMost">The most bytes kept for reuse.</param>
internal sealed class LargeArrays(long keepAtMost)
{
    /// <summary>
    /// The most bytes <see cref="Shared"/> keeps for reuse. One 8 MiB job through a node holds four such arrays at
    /// once on each end (its body until it ends, the record sealing it, the record bringing its result, the result's
    /// copy), a little over 32 MiB with their slack: at 32 MiB the fourth was left to the collector and faulted in
    /// afresh for every job (4.4-4.5 % of all samples in a profile of each end), and <c>ppserver</c>'s collector let
    /// its heap grow by about 100 MiB more.
    /// </summary>
    public const long KeepAtMost = 64L << 20;

    /// <summary>
    /// Above this size a buffer is large: it comes from here and goes back here, not to
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/> (which would hold it for good) and not fresh from the collector
    /// (faulted in page by page). The one threshold for <see cref="Copy"/>, a job's body, a sealed record's buffers
    /// and the buffers of <see cref="PooledBufferWriter"/>s that ask for it. Below it a fresh array is cheap: it comes
    /// from the small-object heap's already touched memory, not from newly mapped pages.
    /// </summary>
    public const int LargeAbove = 1 << 20;

    /// <summary>The process's one instance, used by every connection.</summary>
    public static LargeArrays Shared { get; } = new(KeepAtMost);

    private readonly List<byte[]> _kept = [];
    private long _keptBytes;

    /// <summary>Bytes kept now.</summary>
    public long KeptBytes
    {
        get
        {
            lock (_kept)
            {
                return _keptBytes;
            }
        }
    }

    /// <summary>An array of at least <paramref name="size"/> bytes (contents undefined): a kept one if one fits, else a fresh one.</summary>
    public byte[] Rent(int size)
    {
        lock (_kept)
        {
            int best = -1;
            for (int i = 0; i < _kept.Count; i++)
            {
                int length = _kept[i].Length;
                if (length >= size && length / 2 <= size && (best < 0 || length < _kept[best].Length))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                byte[] array = _kept[best];
                _kept.RemoveAt(best);
                _keptBytes -= array.Length;
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(size);
    }

    /// <summary>
    /// A copy of <paramref name="bytes"/> (a job's body or result taken off a connection's buffer, which is reused once
    /// the frame has been handled). Above <see cref="LargeAbove"/> it lies in a kept array: whoever holds the copy
    /// alone gives it back with <see cref="Return(ReadOnlyMemory{byte})"/> once nothing reads it any more, or lets the
    /// collector have it.
    /// </summary>
    public ReadOnlyMemory<byte> Copy(in ReadOnlySequence<byte> bytes)
    {
        int length = checked((int)bytes.Length);
        if (length == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        byte[] array = length > LargeAbove ? Rent(length) : new byte[length];
        bytes.CopyTo(array);
        return array.AsMemory(0, length);
    }

    /// <summary>
    /// Gives back the array under a <see cref="Copy"/> that nothing reads any more; a small copy is left to the
    /// collector. Only the copy's one holder may call this, once: the array goes to the next large frame.
    /// </summary>
    public void Return(ReadOnlyMemory<byte> copy)
    {
        if (TryGetLargeArray(copy, out byte[]? array))
        {
            Return(array);
        }
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> are large (above <see cref="LargeAbove"/>) and start their own array, which
    /// is then <paramref name="array"/>: what a large <see cref="Copy"/> or a large written buffer is, and what may be
    /// kept for reuse.
    /// </summary>
    public static bool TryGetLargeArray(ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out byte[]? array)
    {
        array = bytes.Length > LargeAbove && MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> segment) && segment.Offset == 0
            ? segment.Array
            : null;
        return array is not null;
    }

    /// <summary>Keeps <paramref name="array"/> for reuse if the cap allows, else leaves it to the collector.</summary>
    public void Return(byte[] array)
    {
        lock (_kept)
        {
            if (_keptBytes + array.Length <= keepAtMost)
            {
                _kept.Add(array);
                _keptBytes += array.Length;
            }
        }
    }
}
