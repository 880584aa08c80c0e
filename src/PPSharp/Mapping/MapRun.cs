using System.Threading.Channels;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Mapping;

/// <summary>
/// One map in progress: reads the caller's items lazily, a chunk at a time, and keeps a bounded window of chunk jobs
/// submitted, so an endless or huge sequence never floods the queue and the workers never wait for the caller. Whoever
/// enumerates takes the chunks in order or as they finish (<see cref="NextAsync"/>).
/// Disposing it cancels every chunk not yet finished: a map abandoned half way leaves nothing running.
/// </summary>
internal sealed class MapRun<T, TResult> : IDisposable
{
    private readonly JobServer _server;
    private readonly FunctionInfo _info;
    private readonly object? _target;
    private readonly IEnumerator<T> _items;
    private readonly int _chunkSize;
    private readonly int _window;
    private readonly WorkSettings _settings;
    private readonly CancellationToken _cancellation;
    private readonly IProgress<MapProgress>? _progress;
    private readonly MapProgressDisplay? _display;
    private readonly int? _total;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private int _done;
    private int _failed;
    private readonly Queue<ChunkJob<TResult>> _submitted = new();
    private readonly Channel<ChunkJob<TResult>> _finished = Channel.CreateUnbounded<ChunkJob<TResult>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<ChunkJob<TResult>> _pending = [];
    private int _nextIndex;
    private bool _exhausted;

    public MapRun(JobServer server, object function, IEnumerable<T> items, int chunkSize, bool progress, IProgress<MapProgress>? reporter, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkSize);
        _server = server;
        _info = server.Describe(function);
        _target = JobServer.TargetOf(function);
        int capacity = Math.Max(1, server.GetActiveNodes().Values.Sum());
        int? count = items switch
        {
            ICollection<T> c => c.Count,
            IReadOnlyCollection<T> c => c.Count,
            _ => null,
        };

        // As multiprocessing does: about four chunks per worker when the count is known, so the tail still balances.
        _chunkSize = chunkSize > 0 ? chunkSize : count is { } n ? Math.Clamp((n + (4 * capacity) - 1) / (4 * capacity), 1, 1024) : 1;
        _window = Math.Max(4, 3 * capacity);
        _settings = server.SettingsOf(null, _chunkSize);
        _cancellation = cancellation;
        _items = items.GetEnumerator();
        _total = count;
        _display = progress ? MapProgressDisplay.ForConsole(count) : null;
        _progress = reporter ?? _display;
    }

    /// <summary>Submits chunks until the window is full or the items run out.</summary>
    public void Fill()
    {
        while (_pending.Count < _window && !_exhausted)
        {
            _cancellation.ThrowIfCancellationRequested();
            var chunk = new List<T>(_chunkSize);
            while (chunk.Count < _chunkSize && _items.MoveNext())
            {
                chunk.Add(_items.Current);
            }

            if (chunk.Count == 0)
            {
                _exhausted = true;
                return;
            }

            Submit(chunk);
        }
    }

    private void Submit(List<T> chunk)
    {
        ReadOnlyMemory<byte> body = JobPayload.WriteChunkBody(_info, _target, chunk, _nextIndex);
        var job = new ChunkJob<TResult>(_server, _nextIndex, chunk.Count);
        _nextIndex += chunk.Count;
        _server.Enqueue(job, _info, body, _settings with { ChunkSize = chunk.Count }, _cancellation);
        _pending.Add(job);
        _submitted.Enqueue(job);
        job.Completion.ContinueWith(
            static (_, state) =>
            {
                var (run, finished) = ((MapRun<T, TResult>, ChunkJob<TResult>))state!;
                run._finished.Writer.TryWrite(finished);
            },
            (this, job),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>The next chunk, in order or as they finish; null when every item has been handed out.</summary>
    public async ValueTask<ChunkJob<TResult>?> NextAsync(bool ordered) =>
        ordered ? await NextInOrderAsync().ConfigureAwait(false) : await NextFinishedAsync().ConfigureAwait(false);

    /// <summary>The next chunk in submission order, once finished; null when every item has been handed out.</summary>
    private async ValueTask<ChunkJob<TResult>?> NextInOrderAsync()
    {
        Fill();
        if (!_submitted.TryDequeue(out ChunkJob<TResult>? chunk))
        {
            return null;
        }

        await chunk.Completion.WaitAsync(_cancellation).ConfigureAwait(false);
        return Taken(chunk);
    }

    /// <summary>The next chunk to finish; null when every item has been handed out.</summary>
    private async ValueTask<ChunkJob<TResult>?> NextFinishedAsync()
    {
        Fill();
        if (_pending.Count == 0)
        {
            return null;
        }

        while (true)
        {
            ChunkJob<TResult> chunk = await _finished.Reader.ReadAsync(_cancellation).ConfigureAwait(false);
            if (_pending.Contains(chunk))
            {
                return Taken(chunk);
            }
        }
    }

    private ChunkJob<TResult> Taken(ChunkJob<TResult> chunk)
    {
        _pending.Remove(chunk);
        if (_progress is not null)
        {
            _done += chunk.Count;
            _failed += chunk.Outcomes.Count(o => o.Error is not null);
            _progress.Report(new MapProgress(_done, _total, _failed, System.Diagnostics.Stopwatch.GetElapsedTime(_started)));
        }

        Fill(); // Keep the workers fed while the caller handles these results.
        return chunk;
    }

    /// <summary>Cancels what is still running or queued, and ends the progress display.</summary>
    public void Dispose()
    {
        foreach (ChunkJob<TResult> chunk in _pending)
        {
            chunk.Cancel();
        }

        _pending.Clear();
        _items.Dispose();
        _display?.Dispose();
    }
}
