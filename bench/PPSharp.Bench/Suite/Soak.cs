using System.Globalization;

namespace PPSharp.Bench.Suite;

/// <summary>
/// <c>PPSharp.Bench soak [--jobs N] [--kill-every S] ...</c>: a million short jobs (by default) through local workers
/// and one real <c>ppserver</c> on loopback while a random local worker is killed (SIGKILL, by pid) every few seconds,
/// with the checks of <see cref="SoakRun"/>. Prints progress, the report, and exits 1 if a job was lost, delivered
/// twice or wrong, a failure was not one of the killed workers' running jobs, or the client's open file descriptors,
/// threads or managed heap grew past generous bounds after the warm-up (docs/security.md, "Fault tests").
/// </summary>
internal static class Soak
{
    public const string Mode = "soak";

    /// <summary>Growth allowed between the warm-up's footprint and the end's: flat, give or take the thread pool's moods.</summary>
    public const int MaxFileDescriptorGrowth = 16;

    public const int MaxThreadGrowth = 16;

    public const long MaxManagedGrowth = 32L * 1024 * 1024;

    private const string Usage =
        "usage: PPSharp.Bench soak [--jobs N (1000000)] [--kill-every SECONDS (3)] [--workers W (2)] [--node-workers K (1)] [--window N (1000)] [--warmup N (20000)] [--job-us MICROSECONDS (100)]";

    public static int Run(string[] args)
    {
        if (args.Contains("-h") || args.Contains("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["--jobs"] = 1_000_000,
            ["--kill-every"] = 3,
            ["--workers"] = 2,
            ["--node-workers"] = 1,
            ["--window"] = 1_000,
            ["--warmup"] = 20_000,
            ["--job-us"] = 100,
        };
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!values.ContainsKey(args[i]) || i + 1 >= args.Length
                || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }

            values[args[i]] = value;
        }

        int jobs = (int)values["--jobs"], warmup = (int)Math.Min(values["--warmup"], values["--jobs"] / 10);
        int workers = (int)values["--workers"], nodeWorkers = (int)values["--node-workers"];
        if (jobs < 10 || workers < 1 || nodeWorkers < 1 || values["--kill-every"] <= 0 || values["--window"] < 1)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string folder = Directory.CreateTempSubdirectory("ppsharp-soak-").FullName;
        try
        {
            using var others = new Interference();
            using PpServer node = PpServer.Start(nodeWorkers);
            var options = new JobServerOptions { Ncpus = workers, Secret = node.Secret };
            options.PpServers.Add(node.EndPoint);
            using var server = new JobServer(options);
            WaitForNode(server, node.EndPoint);

            var settings = new SoakSettings
            {
                Jobs = jobs,
                WarmupJobs = warmup,
                Window = (int)values["--window"],
                KillEvery = TimeSpan.FromSeconds(values["--kill-every"]),
                SpinMicroseconds = (int)values["--job-us"],
                NodePid = node.Pid,
                SlotsPath = Path.Combine(folder, "slots"),
                Progress = Console.Out,
            };
            Console.WriteLine($"PPSharp {Report.PPSharpVersion()} soak: {Report.Machine()}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{jobs:N0} jobs ({warmup:N0} warm-up) of {settings.SpinMicroseconds} us, at most {settings.Window:N0} in flight, Retries = 0; {workers} local workers and a ppserver -w {nodeWorkers} on {node.EndPoint}; a local worker killed every {values["--kill-every"]} s"));
            Console.Out.Flush();

            SoakReport report = SoakRun.Run(server, settings);
            IReadOnlyList<string> growth = report.Growth(MaxFileDescriptorGrowth, MaxThreadGrowth, MaxManagedGrowth);
            Console.WriteLine();
            Console.WriteLine(report);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"growth after warm-up: {report.End.FileDescriptors - report.Warm.FileDescriptors:+#;-#;0} fds (bound +{MaxFileDescriptorGrowth}), {report.End.Threads - report.Warm.Threads:+#;-#;0} threads (bound +{MaxThreadGrowth}), {(report.End.ManagedBytes - report.ManagedFloor) / 1048576.0:+0.0;-0.0;0} MiB managed over its floor (bound +{MaxManagedGrowth / 1048576} MiB)"));
            Console.WriteLine($"other programs used {others.Total():P0} of the machine during the run{(others.Total() > 0.05 ? $" (busiest: {others.TopOthers(3)})" : "")}");
            foreach (string line in growth)
            {
                Console.WriteLine($"FAIL: {line}");
            }

            bool ok = report.Problems.Count == 0 && growth.Count == 0;
            Console.WriteLine(ok ? "soak: passed" : "soak: FAILED");
            return ok ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WaitForNode(JobServer server, string endPoint)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!server.GetActiveNodes().ContainsKey(endPoint))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the node {endPoint} did not connect within 60 s");
            }

            Thread.Sleep(20);
        }
    }
}
