using System.Diagnostics;

namespace PPSharp.Bench.Suite;

/// <summary>The workloads of issue 5, each run against any <see cref="JobServer"/> (local workers or a node).</summary>
internal static class Workloads
{
    /// <summary>
    /// The tiny job of issue 5, <c>static (int x) => x</c>, as one delegate: every call site that submits it submits the
    /// same function, so warm-up rounds warm up the function that is then measured.
    /// </summary>
    public static readonly Func<int, int> Identity = static (int x) => x;

    /// <summary>The 8 MiB workload's function: the argument comes back as the result.</summary>
    public static readonly Func<byte[], byte[]> EchoBytes = static (byte[] b) => b;

    /// <summary>The CPU-bound job of ppft's sum_primes example: the sum of the primes below <paramref name="n"/>.</summary>
    public static long SumPrimes(int n)
    {
        long sum = 0;
        for (int k = 2; k < n; k++)
        {
            if (IsPrime(k))
            {
                sum += k;
            }
        }

        return sum;
    }

    private static bool IsPrime(int n)
    {
        for (int d = 2; (long)d * d <= n; d++)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The 128 inputs of the scaling workload: 100,000 to 227,000, about 10 to 30 ms each.</summary>
    public static int[] ScalingInputs(int jobs) => [.. Enumerable.Range(0, jobs).Select(i => 100_000 + (i * 1_000))];

    /// <summary>Submit one identity job, wait for it, repeat: the latency of one job at a time.</summary>
    public static Stats RoundTrip(JobServer server, int count)
    {
        for (int i = 0; i < Math.Max(200, count / 4); i++)
        {
            Check(server.Submit(Identity, i).Result == i);
        }

        var samples = new long[count];
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            int back = server.Submit(Identity, i).Result;
            samples[i] = Stopwatch.GetTimestamp() - t0;
            Check(back == i);
        }

        return Stats.FromTimestamps(samples);
    }

    /// <summary>
    /// <paramref name="count"/> identity jobs of one int, all submitted, then all results read: jobs/s over the whole
    /// (the median of <paramref name="runs"/> runs, after a warm-up run), and the rate of the submitting loop alone (the
    /// caller's share) in that run.
    /// </summary>
    public static (double JobsPerSecond, double SubmitsPerSecond) Throughput(JobServer server, int count, int runs)
    {
        var jobs = new Job<int>[count];
        var results = new List<(double JobsPerSecond, double SubmitsPerSecond)>();
        for (int round = 0; round <= runs; round++)
        {
            // Round 0 warms up (the function proves short, so jobs are sent ahead; code is jitted); the others are measured.
            int n = round == 0 ? Math.Max(1_000, count / 10) : count;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                jobs[i] = server.Submit(Identity, i);
            }

            double submitSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            long sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += jobs[i].Result;
            }

            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Check(sum == (long)n * (n - 1) / 2);
            Array.Clear(jobs);
            if (round > 0)
            {
                results.Add((n / seconds, n / submitSeconds));
            }
        }

        return results.OrderBy(r => r.JobsPerSecond).ElementAt(results.Count / 2);
    }

    /// <summary>An 8 MiB byte array sent as the argument and returned as the result: MiB/s of one such job (median).</summary>
    public static double Echo8MiB(JobServer server, int count)
    {
        byte[] data = new byte[8 << 20];
        Random.Shared.NextBytes(data);
        var samples = new long[count];
        for (int i = -2; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            byte[] back = server.Submit(EchoBytes, data).Result;
            long elapsed = Stopwatch.GetTimestamp() - t0;
            Check(back.Length == data.Length && back[12345] == data[12345] && back[^1] == data[^1]);
            if (i >= 0)
            {
                samples[i] = elapsed;
            }
        }

        return 8.0 / Stats.FromTimestamps(samples).MedianSeconds;
    }

    /// <summary>The scaling workload done serially in this process; best of <paramref name="runs"/>, in seconds.</summary>
    public static (double Seconds, long Total) SumPrimesSerial(int[] inputs, int runs)
    {
        for (int i = 0; i < 8; i++)
        {
            SumPrimes(inputs[0]); // warm-up: tiered compilation reaches optimized code
        }

        double best = double.MaxValue;
        long total = 0;
        for (int run = 0; run < runs; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            total = 0;
            foreach (int n in inputs)
            {
                total += SumPrimes(n);
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        return (best, total);
    }

    /// <summary>
    /// The scaling workload on <paramref name="threads"/> threads of this process (no isolation, no copies), handed out
    /// one input at a time as the job server does: this machine's own ceiling for the speed-up; best of <paramref name="runs"/>.
    /// </summary>
    public static double SumPrimesThreads(int[] inputs, long expected, int threads, int runs)
    {
        double best = double.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long total = 0;
            long t0 = Stopwatch.GetTimestamp();
            Parallel.ForEach(
                System.Collections.Concurrent.Partitioner.Create(inputs, loadBalance: true),
                new ParallelOptions { MaxDegreeOfParallelism = threads },
                n => Interlocked.Add(ref total, SumPrimes(n)));
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            Check(total == expected);
        }

        return best;
    }

    /// <summary>The scaling workload as jobs; best of <paramref name="runs"/>, in seconds, after warming the workers up.</summary>
    public static double SumPrimesJobs(JobServer server, int[] inputs, long expected, int runs)
    {
        Job<long>[] warm = [.. Enumerable.Range(0, 16).Select(_ => server.Submit(SumPrimes, inputs[0]))];
        foreach (Job<long> job in warm)
        {
            _ = job.Result;
        }

        double best = double.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Job<long>[] jobs = [.. inputs.Select(n => server.Submit(SumPrimes, n))];
            long total = 0;
            foreach (Job<long> job in jobs)
            {
                total += job.Result;
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            Check(total == expected);
        }

        return best;
    }

    /// <summary>The process ids of the server's workers: jobs long enough that each worker takes some.</summary>
    public static int[] WorkerPids(JobServer server, int workers)
    {
        Job<int>[] jobs = [.. Enumerable.Range(0, workers * 3).Select(_ => server.Submit(
            static (int ms) =>
            {
                Thread.Sleep(ms);
                return Environment.ProcessId;
            },
            150))];
        return [.. jobs.Select(j => j.Result).Distinct().Order()];
    }

    /// <summary>Throws if a job's result is wrong: a benchmark of wrong answers measures nothing.</summary>
    public static void Check(bool ok)
    {
        if (!ok)
        {
            throw new InvalidOperationException("A job returned a wrong result.");
        }
    }
}
