using System.Net.Sockets;

namespace PPSharp.Protocol;

/// <summary>
/// A duplex stream over two one-way Unix sockets: reads come from <paramref name="incoming"/>, writes go to
/// <paramref name="outgoing"/>. What a local worker's channel runs on, instead of one socket both ways.
/// </summary>
/// <remarks>
/// On a Unix stream socket, every read by the peer frees send space, and the kernel then wakes whoever waits on the
/// socket (<c>unix_write_space</c> checks no "was full" flag, unlike TCP): the job server's epoll thread, which .NET
/// registers for writability as well as readability, and a worker's read thread blocked in <c>recv</c>. With one
/// socket each way, a side never reads from the socket it writes to, so neither is woken for nothing: on a lone job's
/// round trip that was two context switches of about 5 to 25 µs each on this project's 2-core machine, one of them
/// delaying the worker's job thread (docs/performance.md, "One socket each way").
/// The sending side's socket is written only while it has room (it is not registered with the epoll engine until a
/// write would block), so it stays out of the epoll set for small frames.
/// </remarks>
internal sealed class SplitSocketStream(Socket incoming, Socket outgoing) : Stream
{
    private readonly NetworkStream _in = new(incoming, ownsSocket: true);
    private readonly NetworkStream _out = new(outgoing, ownsSocket: true);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Ends the outgoing direction: the peer reads end of stream after the last byte written.</summary>
    public void ShutdownSend() => _out.Socket.Shutdown(SocketShutdown.Send);

    public override int Read(byte[] buffer, int offset, int count) => _in.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => _in.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _in.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _in.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _out.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => _out.Write(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _out.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _out.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _in.Dispose();
            _out.Dispose();
        }

        base.Dispose(disposing);
    }
}
