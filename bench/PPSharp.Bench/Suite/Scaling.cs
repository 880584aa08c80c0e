using System.Diagnostics;
using System.Globalization;
using static PPSharp.Bench.Suite.Report;

namespace PPSharp.Bench.Suite;

/// <summary>
/// The scaling section (issue 9): for W = 1 … processor count + 1 workers, fixed-length jobs (a spin on a stopwatch,
/// so a job's length does not depend on code speed), ppft's sum_primes and a batch of uneven jobs, each locally and
/// against a <c>ppserver -w W</c> on loopback with <c>ncpus: 0</c>, beside the same work on W threads in this process
/// (the machine's own ceiling, measured in the same run).
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project bench/PPSharp.Bench -- scaling [--quick]</c>. Prints one Markdown table,
/// ready for docs/performance.md.
/// </remarks>
internal static class Scaling
{
    private static readonly double[] LengthsMs = [0.1, 1, 5, 20];

    /// <summary>A job of a fixed length: spins until <paramref name="microseconds"/> have passed.</summary>
    public static int Spin(int microseconds)
    {
        long end = Stopwatch.GetTimestamp() + (microseconds * Stopwatch.Frequency / 1_000_000);
        int spins = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            spins++;
        }

        return spins;
    }

    /// <summary>ppft's sum_primes, on inputs of about 5 ms each here.</summary>
    public static long SumPrimes(int n) => Workloads.SumPrimes(n);

    private static int SumPrimesInput(int i) => 45_000 + ((i % 16) * 500);

    /// <summary>Which rows to measure: every one by default; a developer chasing one figure narrows it down.</summary>
    /// <param name="Workers">Only this W, or every W from 1 to cores + 1 when null.</param>
    /// <param name="Lengths">Only these fixed lengths (ms), or all four when null.</param>
    /// <param name="Where">"local", "node", or both when null.</param>
    /// <param name="Others">False to skip sum_primes and the uneven batch.</param>
    public sealed record Filter(int? Workers = null, double[]? Lengths = null, string? Where = null, bool Others = true)
    {
        /// <summary>Reads <c>--workers W --lengths 0.1,1 --where local|node --fixed-only</c>; throws on anything else.</summary>
        public static Filter Parse(IReadOnlyList<string> args)
        {
            var filter = new Filter();
            for (int i = 0; i < args.Count; i++)
            {
                string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                filter = args[i] switch
                {
                    "--quick" => filter,
                    "--workers" => filter with { Workers = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--lengths" => filter with { Lengths = [.. Value().Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))] },
                    "--where" => filter with { Where = Value() is "local" or "node" ? args[i] : throw new ArgumentException("--where takes local or node.") },
                    "--fixed-only" => filter with { Others = false },
                    _ => throw new ArgumentException($"unknown option {args[i]} (scaling [--quick] [--workers W] [--lengths 0.1,1] [--where local|node] [--fixed-only])"),
                };
            }

            return filter;
        }
    }

    public static int Run(bool quick, Filter? filter = null)
    {
        filter ??= new Filter();
        int cores = Environment.ProcessorCount;
        double seconds = quick ? 0.3 : 1.0;
        Console.WriteLine($"PPSharp {PPSharpVersion()} scaling section: {Machine()}{(quick ? " (quick: short runs, not comparable)" : "")}");
        var rows = new List<string[]>();
        using var others = new Interference();
        others.Settle(TimeSpan.FromSeconds(quick ? 2 : 10));
        for (int w = filter.Workers ?? 1; w <= (filter.Workers ?? cores + 1); w++)
        {
            if (filter.Where is null or "local")
            {
                using var local = new JobServer(w);
                Warm(local, w);
                Measure(rows, "local", w, local, seconds, quick, filter, nodePid: 0);
            }

            if (filter.Where is null or "node")
            {
                using PpServer node = PpServer.Start(w);
                using var remote = new JobServer(0, ppservers: [node.EndPoint], secret: node.Secret);
                WaitForNode(remote, node.EndPoint);
                Warm(remote, w);
                Measure(rows, "node", w, remote, seconds, quick, filter, node.Pid);
            }
        }

        string[] header = ["W", "where", "work", "jobs", "PPSharp: share of W cores doing job work", "W threads in the caller", "ratio", "overhead per job", "CPU per job: client / node / workers"];
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", header) + " |");
        Console.WriteLine("|" + string.Join("|", header.Select(_ => "---")) + "|");
        foreach (string[] row in rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }

        Console.WriteLine($"\nOther programs used {others.Total():P0} of the machine during the run.");
        return 0;
    }

    private static void WaitForNode(JobServer server, string endPoint)
    {
        var watch = Stopwatch.StartNew();
        while (!server.GetActiveNodes().ContainsKey(endPoint))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the node {endPoint} did not connect.");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Starts every worker, proves each function's length, and runs each length twice for about half a second, so the measured
    /// runs see a steady state: the hot paths of the caller, the node and the workers compiled at full optimization.
    /// With only a few jobs each, the first measured row (0.1 ms jobs) ran on the JIT's first, unoptimized code, and the
    /// caller spent about twice the CPU per job (45 % of a core instead of 22 % for 0.1 ms jobs on 2 workers) until the
    /// tiered compiler caught up a second or two later.
    /// </summary>
    private static void Warm(JobServer server, int workers)
    {
        for (int round = 0; round < 2; round++)
        {
            foreach (double ms in LengthsMs)
            {
                int count = workers * Math.Max(8, (int)(500 / ms));
                Workloads.Check(server.MapToList(Spin, Enumerable.Repeat((int)(ms * 1000), count), chunkSize: 1).Count == count);
            }
        }

        Workloads.Check(server.MapToList(SumPrimes, Enumerable.Range(0, 100 * workers).Select(SumPrimesInput), chunkSize: 1).Count == 100 * workers);
    }

    private static void Measure(List<string[]> rows, string where, int w, JobServer server, double seconds, bool quick, Filter filter, int nodePid)
    {
        foreach (double ms in filter.Lengths ?? LengthsMs)
        {
            int count = w * Math.Max(quick ? 16 : 64, (int)(seconds * 1000 / ms));
            int us = (int)(ms * 1000);
            CpuSplit before = CpuSplit.Now(nodePid);
            double wall = Time(() => Submit(server, count, i => server.Submit(Spin, us)));
            CpuSplit cpu = CpuSplit.Now(nodePid) - before;
            double ceiling = Time(() => OnThreads(w, count, _ => Spin(us)));
            double work = count * ms / 1000;
            string PerJob(double cpuSeconds) => $"{N1(cpuSeconds / count * 1e6)}";
            Row(rows, w, where, $"fixed {ms.ToString(CultureInfo.InvariantCulture)} ms", count, work / (w * wall), work / (w * ceiling), ((wall * w / count) - (ms / 1000)) * 1e6,
                $"{PerJob(cpu.ClientSeconds)} / {(nodePid == 0 ? "-" : PerJob(cpu.NodeSeconds))} / {PerJob(cpu.WorkerSeconds)} µs");
        }

        if (!filter.Others)
        {
            return;
        }

        int primes = w * (quick ? 16 : 64);
        // Real work, unlike a spin on the clock, is slowed by whatever else takes its core, so the runs are short and
        // this machine's speed swings: the best of three of each, taken in turns, compares like with like.
        double primesWall = double.MaxValue, primesOne = double.MaxValue, primesCeiling = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            primesWall = Math.Min(primesWall, Time(() => Submit(server, primes, i => server.Submit(SumPrimes, SumPrimesInput(i)))));
            primesOne = Math.Min(primesOne, Time(() => OnThreads(1, Math.Max(16, primes / w), i => SumPrimes(SumPrimesInput(i)))) * primes / Math.Max(16, primes / w));
            primesCeiling = Math.Min(primesCeiling, Time(() => OnThreads(w, primes, i => SumPrimes(SumPrimesInput(i)))));
        }

        Row(rows, w, where, "sum_primes (speed-up as share of W)", primes, primesOne / primesWall / w, primesOne / primesCeiling / w, double.NaN);

        // Uneven: lengths 1-50 ms, 64 per worker, shuffled; judged against the ideal first-free-worker schedule.
        var random = new Random(9);
        int[] uneven = [.. Enumerable.Range(0, w * (quick ? 8 : 64)).Select(_ => random.Next(1, 51))];
        double unevenWall = Time(() => Submit(server, uneven.Length, i => server.Submit(Spin, uneven[i] * 1000)));
        double ideal = FirstFreeSchedule(uneven, w) / 1000;
        rows.Add([w.ToString(CultureInfo.InvariantCulture), where, "uneven 1-50 ms: ideal schedule / batch time", uneven.Length.ToString(CultureInfo.InvariantCulture),
            $"{ideal / unevenWall:P1}", "", "", $"batch {N1(unevenWall * 1000)} ms, ideal {N1(ideal * 1000)} ms", ""]);
    }

    private static void Row(List<string[]> rows, int w, string where, string work, int count, double share, double ceiling, double overheadUs, string cpuPerJob = "") =>
        rows.Add([w.ToString(CultureInfo.InvariantCulture), where, work, count.ToString(CultureInfo.InvariantCulture), $"{share:P1}", $"{ceiling:P1}", $"{share / ceiling:P1}",
            double.IsNaN(overheadUs) ? "" : $"{N1(Math.Max(0, overheadUs))} µs", cpuPerJob]);

    /// <summary>Every job submitted at once, then every result read: the batch's wall time.</summary>
    private static void Submit<T>(JobServer server, int count, Func<int, Job<T>> submit)
    {
        var jobs = new Job<T>[count];
        for (int i = 0; i < count; i++)
        {
            jobs[i] = submit(i);
        }

        foreach (Job<T> job in jobs)
        {
            _ = job.Result;
        }
    }

    /// <summary>The same work on <paramref name="threads"/> threads of this process, taking items from a shared counter.</summary>
    private static void OnThreads(int threads, int count, Action<int> work)
    {
        int next = -1;
        var all = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            all[t] = new Thread(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    work(i);
                }
            });
            all[t].Start();
        }

        foreach (Thread thread in all)
        {
            thread.Join();
        }
    }

    /// <summary>The makespan, in ms, when each job in turn goes to the worker that is free first.</summary>
    private static double FirstFreeSchedule(int[] lengthsMs, int workers)
    {
        var free = new PriorityQueue<int, double>();
        for (int k = 0; k < workers; k++)
        {
            free.Enqueue(k, 0);
        }

        double end = 0;
        foreach (int length in lengthsMs)
        {
            free.TryDequeue(out int worker, out double at);
            double done = at + length;
            end = Math.Max(end, done);
            free.Enqueue(worker, done);
        }

        return end;
    }

    private static double Time(Action action)
    {
        long t0 = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }
}
