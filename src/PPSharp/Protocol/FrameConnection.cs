using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using PPSharp.Diagnostics;

namespace PPSharp.Protocol;

/// <summary>
/// One duplex channel carrying frames: one read loop and one write loop, the write loop fed by a single-reader channel
/// so that any thread may send without locking and many frames go out in one write.
/// </summary>
/// <remarks>
/// <see cref="Send"/> is safe from any thread and never blocks. The frame handler runs on the read loop; it must not block
/// and must copy anything it keeps, because the payload's memory is reused once it returns.
/// A handler that throws, an oversized or malformed frame, or a broken stream ends both loops; <see cref="Completion"/>
/// then completes (with the reason, or <see langword="null"/> on a clean end of stream).
/// </remarks>
internal sealed class FrameConnection : IAsyncDisposable
{
    /// <summary>Flush at least this often while draining a long send queue, so large bursts do not sit in memory.</summary>
    private const int FlushThreshold = 256 * 1024;

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly FrameCodec.CountingWriter _counter;
    private readonly Channel<IOutgoingFrame> _outgoing = Channel.CreateUnbounded<IOutgoingFrame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly FrameHandler _onFrame;
    private readonly bool _readOnOwnThread;
    private volatile int _maxPayload;
    private volatile FrameOpener? _opener;
    private FrameSealer? _sealer; // the write loop's own
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<Exception?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _readLoop;
    private Task? _writeLoop;
    private long _lastReceived = Environment.TickCount64;
    private long _unsent;
    private long _drainedBelow = -1;
    private Action? _onDrained;
    private volatile TaskCompletionSource? _readingPaused;

    public delegate void FrameHandler(MessageType type, ReadOnlySequence<byte> payload);

    /// <param name="stream">The connection.</param>
    /// <param name="maxPayload">The largest payload accepted (see <see cref="MaxPayload"/>).</param>
    /// <param name="onFrame">Called on the read loop for each frame received.</param>
    /// <param name="readOnOwnThread">
    /// True to read on a thread of this connection's own that blocks in the socket's receive, instead of an async loop
    /// that the socket engine's thread hands to the thread pool after every read: two thread hand-offs (and their
    /// wake-ups) fewer per read, for a process with one busy connection (a worker). Not for a process with many.
    /// </param>
    public FrameConnection(Stream stream, int maxPayload, FrameHandler onFrame, bool readOnOwnThread = false)
    {
        _stream = stream;
        _maxPayload = maxPayload;
        _onFrame = onFrame;
        _readOnOwnThread = readOnOwnThread;
        _reader = PipeReader.Create(readOnOwnThread ? new BlockingReads(stream) : stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _counter = new FrameCodec.CountingWriter(_writer);
    }

    /// <summary>
    /// The largest payload accepted. Starts small on network connections (nothing but the handshake is read before
    /// authentication) and is raised once the peer is authenticated.
    /// </summary>
    public int MaxPayload
    {
        get => _maxPayload;
        set => _maxPayload = value;
    }

    /// <summary>
    /// Called on the read loop once the frames of one read have all been handed to the handler: a handler that stages
    /// work per frame can publish it here in one step, so another thread sees the whole burst at once, not frame by frame.
    /// </summary>
    public Action? AfterFrames { get; init; }

    /// <summary>Who is at the other end, for the byte counts of the <c>PPSharp</c> meter: "local", or a node or client address.</summary>
    public string Peer { get; init; } = "local";

    /// <summary>
    /// From the next frame read on, every incoming frame must be sealed with <paramref name="opener"/>'s key (see
    /// <see cref="FrameProtection"/>). Called on the read loop, or while the peer cannot send (mid-handshake).
    /// </summary>
    public void ProtectReceiving(FrameOpener opener) => _opener = opener;

    /// <summary>Every frame queued after this call goes out sealed with <paramref name="sealer"/>'s key; those before, as they are.</summary>
    public void ProtectSending(FrameSealer sealer) => _outgoing.Writer.TryWrite(new StartSealing(sealer));

    /// <summary>A marker in the send queue: the write loop seals from here on.</summary>
    private sealed class StartSealing(FrameSealer sealer) : IOutgoingFrame
    {
        public FrameSealer Sealer => sealer;

        public MessageType Type => MessageType.Error;

        public void WritePayload(IBufferWriter<byte> writer) => throw new InvalidOperationException("Not a frame.");
    }

    /// <summary>Completes when the connection has ended: <see langword="null"/> for a clean end of stream, else the reason.</summary>
    public Task<Exception?> Completion => _completion.Task;

    public void Start()
    {
        _readLoop = _readOnOwnThread ? ReadOnOwnThread() : Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Runs the read loop on a new thread. Its reads complete synchronously (<see cref="BlockingReads"/>), so the loop
    /// never leaves that thread, except after <see cref="PauseReading"/>, when it goes on on the thread pool.
    /// </summary>
    private Task ReadOnOwnThread()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Task loop = ReadLoopAsync();
            loop.ContinueWith(static (_, state) => ((TaskCompletionSource)state!).SetResult(), done, TaskScheduler.Default);
        })
        {
            IsBackground = true,
            Name = "PPSharp frame reader",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>A stream whose async reads are its blocking reads, completed before they return.</summary>
    private sealed class BlockingReads(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(inner.Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Queues a frame; returns <see langword="false"/> once the connection is closing.</summary>
    public bool Send(IOutgoingFrame frame)
    {
        long size = frame.SizeHint;
        if (size > 0)
        {
            Interlocked.Add(ref _unsent, size);
        }

        frame.Queued();
        return _outgoing.Writer.TryWrite(frame);
    }

    /// <summary>Bytes of large frames (results) queued and not yet written: what a peer that does not read costs here.</summary>
    public long UnsentBytes => Interlocked.Read(ref _unsent);

    /// <summary>
    /// Calls <paramref name="onDrained"/> once (on the write loop) when <see cref="UnsentBytes"/> is at or below
    /// <paramref name="bytes"/>; replaces an earlier request.
    /// </summary>
    public void WhenUnsentBelow(long bytes, Action onDrained)
    {
        lock (_outgoing)
        {
            _onDrained = onDrained;
            _drainedBelow = bytes;
        }

        NotifyIfDrained();
    }

    private void NotifyIfDrained()
    {
        Action? drained = null;
        lock (_outgoing)
        {
            if (_onDrained is not null && UnsentBytes <= _drainedBelow)
            {
                drained = _onDrained;
                _onDrained = null;
            }
        }

        drained?.Invoke();
    }

    /// <summary>
    /// Stops reading frames after the current one until <see cref="ResumeReading"/>: backpressure on a peer that sends
    /// more than this side will hold. The peer's writes then fill the socket buffers and it blocks.
    /// </summary>
    public void PauseReading()
    {
        Interlocked.CompareExchange(ref _readingPaused, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
    }

    /// <summary>Reads again after <see cref="PauseReading"/>.</summary>
    public void ResumeReading() => Interlocked.Exchange(ref _readingPaused, null)?.TrySetResult();

    /// <summary>Whether reading is paused (<see cref="PauseReading"/>).</summary>
    public bool IsReadingPaused => _readingPaused is not null;

    /// <summary>Queues a frame and blocks until it has been written to the stream (or the connection has ended).</summary>
    public void SendAndFlush(IOutgoingFrame frame)
    {
        var flushed = new FlushedFrame(frame);
        if (Send(flushed))
        {
            Task.WhenAny(flushed.Written.Task, _completion.Task).GetAwaiter().GetResult();
        }
    }

    /// <summary>A frame whose sender waits for it to reach the stream.</summary>
    private sealed class FlushedFrame(IOutgoingFrame inner) : IOutgoingFrame
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public MessageType Type => inner.Type;

        public void Queued() => inner.Queued();

        public void WritePayload(IBufferWriter<byte> writer) => inner.WritePayload(writer);
    }

    /// <summary>
    /// Sends what is queued (a parting Error frame, say), then closes the connection, whatever the peer does: used to
    /// turn away a peer that failed the handshake without leaving it a connection to keep open.
    /// </summary>
    public void CloseAfterSending(Exception reason)
    {
        _outgoing.Writer.TryComplete();
        Task? writing = _writeLoop;
        if (writing is null)
        {
            Close(reason);
            return;
        }

        _ = writing.ContinueWith(_ => Close(reason), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Milliseconds since bytes last arrived from the peer: part of a frame counts, so a peer busy sending one large
    /// frame (a 200 MB result) is never taken for a silent one by the heartbeats that read this.
    /// </summary>
    public long MillisecondsSinceReceived => Environment.TickCount64 - Interlocked.Read(ref _lastReceived);

    /// <summary>Sends what is queued, then ends the write side (the peer sees end of stream after the last frame).</summary>
    public void CompleteSending() => _outgoing.Writer.TryComplete();

    private async Task ReadLoopAsync()
    {
        Exception? reason = null;
        try
        {
            while (true)
            {
                if (_readingPaused is { } paused)
                {
                    await paused.Task.WaitAsync(_closing.Token).ConfigureAwait(false);
                    Interlocked.Exchange(ref _lastReceived, Environment.TickCount64); // paused by us: not the peer's silence
                }

                ReadResult result = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastReceived, Environment.TickCount64);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool more = true;
                while (more)
                {
                    more = _opener is { } opener ? ReadSealedRecord(ref buffer, opener) : ReadPlainFrame(ref buffer);
                }

                AfterFrames?.Invoke();

                PPSharpMetrics.OnBytes(result.Buffer.Length - buffer.Length, Peer, sent: false);
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        reason = new ProtocolException("The peer closed the connection in the middle of a frame.");
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            reason = ex;
        }

        Close(reason);
    }

    /// <summary>Hands one frame off the front of <paramref name="buffer"/> to the handler, if a whole one is there.</summary>
    private bool ReadPlainFrame(ref ReadOnlySequence<byte> buffer)
    {
        if (!FrameCodec.TryRead(ref buffer, _maxPayload, out MessageType type, out ReadOnlySequence<byte> payload))
        {
            return false;
        }

        _onFrame(type, payload); // It may turn sealing on: the next frame is then read as a record.
        return true;
    }

    /// <summary>Opens one sealed record off the front of <paramref name="buffer"/>, if a whole one is there, and hands its frames on.</summary>
    private bool ReadSealedRecord(ref ReadOnlySequence<byte> buffer, FrameOpener opener)
    {
        if (!FrameOpener.TryReadRecord(ref buffer, FrameProtection.MaxRecord(_maxPayload), out ReadOnlySequence<byte> record))
        {
            return false;
        }

        using FrameOpener.Opened opened = opener.Open(record);
        ReadOnlySequence<byte> frames = opened.Payload;
        while (FrameCodec.TryRead(ref frames, _maxPayload, out MessageType type, out ReadOnlySequence<byte> payload))
        {
            _onFrame(type, payload);
        }

        if (!frames.IsEmpty)
        {
            throw new ProtocolException("A sealed record ends in the middle of a frame.");
        }

        return true;
    }

    private async Task WriteLoopAsync()
    {
        Exception? reason = null;
        try
        {
            ChannelReader<IOutgoingFrame> queue = _outgoing.Reader;
            while (await queue.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                // Drain everything queued into the pipe, then flush once: many small frames per system call.
                FlushedFrame? waiting = null;
                long before = _counter.Written;
                long written = 0;
                while (queue.TryRead(out IOutgoingFrame? frame))
                {
                    written += frame.SizeHint;
                    if (frame is StartSealing start)
                    {
                        _sealer = start.Sealer;
                        continue;
                    }

                    if (_sealer is null)
                    {
                        FrameCodec.Write(_counter, frame, _maxPayload);
                    }
                    else
                    {
                        _sealer.Add(frame, _maxPayload); // Frames between two flushes go out as one sealed record.
                        if (_sealer.Pending >= FrameProtection.RecordTarget)
                        {
                            _sealer.Seal(_counter); // through the counter: sealed bytes count as sent, as plain ones do
                        }
                    }

                    if (frame is FlushedFrame flushed)
                    {
                        waiting = flushed;
                        break; // Its sender is blocked until it is out: flush now.
                    }

                    if (_writer.UnflushedBytes >= FlushThreshold)
                    {
                        await _writer.FlushAsync(_closing.Token).ConfigureAwait(false);
                    }
                }

                _sealer?.Seal(_counter);
                await _writer.FlushAsync(_closing.Token).ConfigureAwait(false);
                if (written > 0)
                {
                    Interlocked.Add(ref _unsent, -written);
                    NotifyIfDrained();
                }

                PPSharpMetrics.OnBytes(_counter.Written - before, Peer, sent: true);
                waiting?.Written.TrySetResult();
            }

            // Sending completed normally: half-close so the peer reads end of stream after our last frame.
            await _writer.CompleteAsync().ConfigureAwait(false);
            if (_stream is System.Net.Security.SslStream tls)
            {
                await tls.ShutdownAsync().ConfigureAwait(false); // TLS's own end of stream (close_notify): the peer reads its end
            }
            else if (_stream is System.Net.Sockets.NetworkStream ns)
            {
                ns.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
            else if (_stream is SplitSocketStream split)
            {
                split.ShutdownSend();
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            reason = ex;
            Close(reason);
        }
    }

    /// <summary>Ends both loops at once; frames not yet written are dropped.</summary>
    public void Close(Exception? reason = null)
    {
        if (!_completion.TrySetResult(reason))
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        _closing.Cancel();
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close();
        foreach (Task? loop in new[] { _readLoop, _writeLoop })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }
        }

        _closing.Dispose();
        _opener?.Dispose();
        _sealer?.Dispose();
    }
}
