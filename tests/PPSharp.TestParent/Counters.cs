namespace PPSharp.TestParent;

/// <summary>
/// "counters NCPUS": a program that keeps a job server busy for a tool to watch from outside (dotnet-counters). It
/// submits batches of short jobs (eight per worker, so some wait in the queue) until its standard input closes,
/// prints "PARENT pid", then "READY" once the first batch has finished, and at the end "DONE n" with the jobs run.
/// </summary>
public static class Counters
{
    public static int Run(int ncpus)
    {
        using var server = new JobServer(ncpus);
        Console.WriteLine($"PARENT {Environment.ProcessId}");
        Console.Out.Flush();
        Task closed = Task.Run(() => Console.In.ReadToEnd());
        long done = 0;
        while (!closed.IsCompleted)
        {
            Job<long>[] batch = [.. Enumerable.Range(0, 8 * ncpus).Select(i => server.Submit(Spin, 2 + (i % 3)))];
            foreach (Job<long> job in batch)
            {
                _ = job.Result;
            }

            if (done == 0)
            {
                Console.WriteLine("READY");
                Console.Out.Flush();
            }

            done += batch.Length;
        }

        Console.WriteLine($"DONE {done}");
        return 0;
    }

    /// <summary>Computes for about <paramref name="milliseconds"/> ms (a job of measurable length).</summary>
    public static long Spin(int milliseconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long x = 0;
        while (clock.ElapsedMilliseconds < milliseconds)
        {
            x = (x * 31) + clock.ElapsedTicks;
        }

        return x;
    }
}
