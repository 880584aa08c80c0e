using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PPSharp.Mapping;

namespace PPSharp;

public sealed partial class JobServer
{
    /// <summary>
    /// Runs <paramref name="function"/> on every item in parallel and yields the results in the items' order, lazily
    /// (pathos' <c>imap</c>): items are read and submitted a window at a time as the enumeration goes, so an endless
    /// sequence works, and the results come as soon as each one (and every one before it) is ready.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="function">The function to call once per item, in a worker process (any delegate <c>Submit</c> takes).</param>
    /// <param name="items">The items; each is copied to a worker as the function's argument.</param>
    /// <param name="chunkSize">Items per job: more cuts the overhead per item for short functions. 0 (the default)
    /// chooses about four jobs per worker when the number of items is known, else one item per job.</param>
    /// <param name="progress">Draw a progress bar (done/total, rate, time left, failures) on the console's error
    /// stream while the map runs; nothing is drawn when that stream is not a terminal.</param>
    /// <param name="cancellationToken">Cancels the map: queued items never run, running ones are stopped, and the
    /// enumeration throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The results, in the order of <paramref name="items"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> or <paramref name="items"/> is null.</exception>
    /// <exception cref="ArgumentException">The function cannot be sent to a worker (thrown at once), or an item cannot
    /// (thrown when the enumeration reaches it).</exception>
    /// <exception cref="MapItemFailedException">Item i's function call failed; thrown when the enumeration reaches item i.</exception>
    /// <remarks>Leaving the enumeration early (<c>break</c>, an exception) cancels the items still queued or running.</remarks>
    public IEnumerable<TResult> Map<T, TResult>(Func<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: true);

    /// <inheritdoc cref="Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>
    public IEnumerable<TResult> Map<T, TResult>(Func<T, Task<TResult>> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: true);

    /// <inheritdoc cref="Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>
    public IEnumerable<TResult> Map<T, TResult>(SourceFunction<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: true);

    /// <summary>
    /// Like <see cref="Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>, but yields the
    /// results as they finish, whatever their order (pathos' <c>uimap</c>). Item i's failure throws when its result
    /// would have been yielded, naming i.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="function">The function to call once per item, in a worker process.</param>
    /// <param name="items">The items.</param>
    /// <param name="chunkSize">Items per job; 0 chooses.</param>
    /// <param name="progress">Draw a progress bar on a terminal.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    /// <returns>The results, in the order they finish.</returns>
    public IEnumerable<TResult> MapUnordered<T, TResult>(Func<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: false);

    /// <inheritdoc cref="MapUnordered{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>
    public IEnumerable<TResult> MapUnordered<T, TResult>(Func<T, Task<TResult>> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: false);

    /// <inheritdoc cref="MapUnordered{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>
    public IEnumerable<TResult> MapUnordered<T, TResult>(SourceFunction<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        Results(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered: false);

    /// <summary>
    /// The asynchronous map: the results as an <see cref="IAsyncEnumerable{T}"/>, in the items' order or as they finish.
    /// Otherwise as <see cref="Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="function">The function to call once per item, in a worker process.</param>
    /// <param name="items">The items.</param>
    /// <param name="chunkSize">Items per job; 0 chooses.</param>
    /// <param name="ordered">True (the default) for the items' order; false for the order they finish in.</param>
    /// <param name="progress">Draw a progress bar on a terminal.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    /// <returns>The results.</returns>
    public IAsyncEnumerable<TResult> MapAsync<T, TResult>(Func<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool ordered = true, bool progress = false, CancellationToken cancellationToken = default) =>
        ResultsAsync(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered, cancellationToken);

    /// <inheritdoc cref="MapAsync{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, bool, CancellationToken)"/>
    public IAsyncEnumerable<TResult> MapAsync<T, TResult>(Func<T, Task<TResult>> function, IEnumerable<T> items, int chunkSize = 0, bool ordered = true, bool progress = false, CancellationToken cancellationToken = default) =>
        ResultsAsync(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered, cancellationToken);

    /// <inheritdoc cref="MapAsync{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, bool, CancellationToken)"/>
    public IAsyncEnumerable<TResult> MapAsync<T, TResult>(SourceFunction<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool ordered = true, bool progress = false, CancellationToken cancellationToken = default) =>
        ResultsAsync(Start<T, TResult>(function, items, chunkSize, progress, cancellationToken), ordered, cancellationToken);

    /// <summary>
    /// <see cref="Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>, reporting its
    /// progress to <paramref name="progress"/> (after each finished chunk) instead of drawing a bar: for programs with
    /// their own display.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="function">The function to call once per item, in a worker process.</param>
    /// <param name="items">The items.</param>
    /// <param name="progress">Told how far the map has come.</param>
    /// <param name="chunkSize">Items per job; 0 chooses.</param>
    /// <param name="ordered">True (the default) for the items' order; false for the order they finish in.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    /// <returns>The results.</returns>
    public IEnumerable<TResult> Map<T, TResult>(Func<T, TResult> function, IEnumerable<T> items, IProgress<MapProgress> progress, int chunkSize = 0, bool ordered = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return Results(Start<T, TResult>(function, items, chunkSize, false, cancellationToken, progress), ordered);
    }

    /// <summary>
    /// The blocking map (pathos' and multiprocessing's <c>map</c>): waits for every item and returns the results in
    /// order. The first failed item (by index) throws, after the map has ended.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="function">The function to call once per item, in a worker process.</param>
    /// <param name="items">The items.</param>
    /// <param name="chunkSize">Items per job; 0 chooses.</param>
    /// <param name="progress">Draw a progress bar on a terminal.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    /// <returns>The results, in the order of <paramref name="items"/>.</returns>
    public List<TResult> MapToList<T, TResult>(Func<T, TResult> function, IEnumerable<T> items, int chunkSize = 0, bool progress = false, CancellationToken cancellationToken = default) =>
        [.. Map(function, items, chunkSize, progress, cancellationToken)];

    /// <summary>Yields the jobs as they finish (succeeded, failed or cancelled), whatever the order they were given in.</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="jobs">The jobs; read once, at the call.</param>
    /// <returns>The same jobs, each as soon as it has finished (and its callback has run).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="jobs"/> or one of them is null.</exception>
    public static IEnumerable<TJob> AsCompleted<TJob>(IEnumerable<TJob> jobs)
        where TJob : Job
    {
        ChannelReader<TJob> finished = Watch(jobs, out int count);
        return Iterate(finished, count);

        static IEnumerable<TJob> Iterate(ChannelReader<TJob> finished, int count)
        {
            for (int i = 0; i < count; i++)
            {
                if (!finished.TryRead(out TJob? job))
                {
                    job = finished.ReadAsync().AsTask().GetAwaiter().GetResult();
                }

                yield return job;
            }
        }
    }

    /// <summary>Yields the jobs as they finish, asynchronously.</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="jobs">The jobs; read once, at the call.</param>
    /// <param name="cancellationToken">Stops waiting (the jobs go on).</param>
    /// <returns>The same jobs, each as soon as it has finished.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="jobs"/> or one of them is null.</exception>
    public static IAsyncEnumerable<TJob> AsCompletedAsync<TJob>(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default)
        where TJob : Job
    {
        ChannelReader<TJob> finished = Watch(jobs, out int count);
        return Iterate(finished, count, cancellationToken);

        static async IAsyncEnumerable<TJob> Iterate(ChannelReader<TJob> finished, int count, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (int i = 0; i < count; i++)
            {
                yield return await finished.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static ChannelReader<TJob> Watch<TJob>(IEnumerable<TJob> jobs, out int count)
        where TJob : Job
    {
        ArgumentNullException.ThrowIfNull(jobs);
        List<TJob> list = [.. jobs];
        if (list.Exists(j => j is null))
        {
            throw new ArgumentNullException(nameof(jobs), "A job in the sequence is null.");
        }

        var finished = Channel.CreateUnbounded<TJob>(new UnboundedChannelOptions { SingleReader = true });
        foreach (TJob job in list)
        {
            job.Completion.ContinueWith(
                static (_, state) =>
                {
                    var (writer, done) = ((ChannelWriter<TJob>, TJob))state!;
                    writer.TryWrite(done);
                },
                (finished.Writer, job),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        count = list.Count;
        return finished.Reader;
    }

    private MapRun<T, TResult> Start<T, TResult>(object function, IEnumerable<T> items, int chunkSize, bool progress, CancellationToken cancellationToken, IProgress<MapProgress>? reporter = null)
    {
        ThrowIfDestroyed();
        return new MapRun<T, TResult>(this, function, items, chunkSize, progress, reporter, cancellationToken);
    }

    private static IEnumerable<TResult> Results<T, TResult>(MapRun<T, TResult> run, bool ordered)
    {
        using (run)
        {
            while (run.NextAsync(ordered).AsTask().GetAwaiter().GetResult() is { } chunk)
            {
                foreach (ChunkJob<TResult>.ItemOutcome outcome in chunk.Outcomes)
                {
                    if (outcome.Error is not null)
                    {
                        throw outcome.Error;
                    }

                    yield return outcome.Value;
                }
            }
        }
    }

    private static async IAsyncEnumerable<TResult> ResultsAsync<T, TResult>(MapRun<T, TResult> run, bool ordered, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _ = cancellationToken; // The run watches the map's token; this one is the enumerator's, linked by the caller.
        using (run)
        {
            while (await run.NextAsync(ordered).ConfigureAwait(false) is { } chunk)
            {
                foreach (ChunkJob<TResult>.ItemOutcome outcome in chunk.Outcomes)
                {
                    if (outcome.Error is not null)
                    {
                        throw outcome.Error;
                    }

                    yield return outcome.Value;
                }
            }
        }
    }
}
