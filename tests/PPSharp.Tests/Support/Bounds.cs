namespace PPSharp.Tests.Support;

/// <summary>
/// Generous upper bounds that only catch hangs. No test asserts how fast something is; a test fails on
/// these bounds only when the library never answers.
/// </summary>
public static class Bounds
{
    /// <summary>Bound for one job, one connection, one process exit.</summary>
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    /// <summary>Bound for a heavy operation (hundreds of MB, a process tree starting).</summary>
    public static readonly TimeSpan Heavy = TimeSpan.FromSeconds(120);

    /// <summary>Awaits the job's result, failing with <see cref="TimeoutException"/> if it hangs.</summary>
    public static Task<T> Within<T>(this Job<T> job) => job.AsTask().WaitAsync(Hang);

    /// <summary>Awaits the job, failing with <see cref="TimeoutException"/> if it hangs.</summary>
    public static Task Within(this Job job) => job.AsTask().WaitAsync(Hang);

    /// <summary>Awaits all the jobs' results, failing with <see cref="TimeoutException"/> if one hangs.</summary>
    public static Task<T[]> AllWithin<T>(this IEnumerable<Job<T>> jobs, TimeSpan? bound = null) =>
        Task.WhenAll(jobs.Select(j => j.AsTask())).WaitAsync(bound ?? Heavy);

    /// <summary>Runs blocking code on the thread pool and fails with <see cref="TimeoutException"/> if it hangs.</summary>
    public static Task RunWithin(Action action, TimeSpan? bound = null) => Task.Run(action).WaitAsync(bound ?? Hang);

    /// <summary>Runs blocking code on the thread pool and fails with <see cref="TimeoutException"/> if it hangs.</summary>
    public static Task<T> RunWithin<T>(Func<T> func, TimeSpan? bound = null) => Task.Run(func).WaitAsync(bound ?? Hang);

    /// <summary>Runs code that must throw synchronously (bounded, so a hang fails instead of blocking the suite).</summary>
    public static async Task<Exception?> RecordWithin(Action action, TimeSpan? bound = null) =>
        await Task.Run(() => Record.Exception(action)).WaitAsync(bound ?? Hang);

    /// <summary>Waits until <paramref name="condition"/> holds, for something the library reports in the background; fails on a hang.</summary>
    public static async Task Until(Func<bool> condition, TimeSpan? bound = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (bound ?? Hang))
            {
                throw new TimeoutException($"The condition did not hold within {bound ?? Hang}.");
            }

            await Task.Delay(10);
        }
    }
}
