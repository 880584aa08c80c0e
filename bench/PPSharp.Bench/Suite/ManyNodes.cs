using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;

namespace PPSharp.Bench.Suite;

/// <summary>
/// <c>PPSharp.Bench nodes [--count N]</c>: one client and N real <c>ppserver</c> processes on loopback (one worker
/// each), and what the client spends per node: managed memory, working set, threads, heartbeat traffic and CPU while
/// idle, and the throughput of short jobs spread over all the nodes (docs/performance.md, "Many nodes").
/// </summary>
internal static class ManyNodes
{
    public const string Mode = "nodes";

    /// <summary>How long the idle client is watched.</summary>
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(20);

    public static int Run(string[] args)
    {
        int count = 100;
        Console.Out.Flush();
        if (args.Length == 2 && args[0] == "--count" && int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1000)
        {
            count = n;
        }
        else if (args.Length != 0)
        {
            Console.Error.WriteLine("usage: PPSharp.Bench nodes [--count N]   (N from 1 to 1000; default 100)");
            return 2;
        }

        string secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        string salt = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)); // one per cluster, as SlurmCluster gives its nodes
        var nodes = new List<PpServer>();
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (int[] batch in Enumerable.Range(0, count).Chunk(5))
            {
                nodes.AddRange(batch.AsParallel().Select(_ => PpServer.Start(workers: 1, secret, ["--salt", salt])));
            }

            TimeSpan started = clock.Elapsed;
            Console.WriteLine($"# {count} ppserver nodes on loopback, 1 worker each; one client ({Environment.ProcessorCount} cores)");
            Row("nodes started (5 at a time)", $"{started.TotalSeconds:F1} s");
            using Process self = Process.GetCurrentProcess();
            Footprint.Listen();
            Footprint before = Footprint.Take(self);

            clock.Restart();
            // A hundred nodes and their workers on a couple of cores stall one another for longer than the 10 s heartbeat
            // limit (on a cluster each node has cores of its own): generous limits, as in ManyNodesTests, so that a slow
            // node is not taken for a dead one and its jobs moved while this measures the client.
            var options = new JobServerOptions { Ncpus = 0, Secret = secret, HeartbeatTimeout = TimeSpan.FromMinutes(2), SocketTimeout = TimeSpan.FromMinutes(2) };
            foreach (PpServer node in nodes)
            {
                options.PpServers.Add(node.EndPoint);
            }

            using var server = new JobServer(options);
            while (server.GetActiveNodes().Count(n => n.Key != "local") < count)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException($"only {server.GetActiveNodes().Count - 1} of {count} nodes connected in 5 minutes");
                }

                Thread.Sleep(10);
            }

            TimeSpan connected = clock.Elapsed;
            Footprint connectedFootprint = Footprint.Take(self);
            Row("all connected after", $"{connected.TotalSeconds:F2} s");
            Row("client threads", $"{before.Threads} before, {connectedFootprint.Threads} connected (+{connectedFootprint.Threads - before.Threads})");
            Row("managed heap per node", $"{(connectedFootprint.ManagedBytes - before.ManagedBytes) / (double)count / 1024:F1} KiB");
            Row("working set per node", $"{(connectedFootprint.WorkingSet - before.WorkingSet) / (double)count / 1024:F1} KiB");

            // Short jobs, many per node: the first round also uploads the code to every node.
            var warm = Enumerable.Range(0, count).Select(i => server.Submit(Square, i)).ToList();
            warm.ForEach(j => j.Wait());
            int jobs = 20 * count;
            clock.Restart();
            var work = Enumerable.Range(0, jobs).Select(i => server.Submit(Square, i)).ToList();
            work.ForEach(j => j.Wait());
            double jobsPerSecond = jobs / clock.Elapsed.TotalSeconds;
            int used = work.Select(j => j.Node).Distinct().Count();
            Row("short jobs over all nodes", $"{jobsPerSecond:F0} jobs/s ({jobs} jobs, {used} nodes used)");

            Footprint connectedIdle = Footprint.Take(self);
            Thread.Sleep(IdleWindow); // the measuring window: the client does nothing but keep its connections
            Footprint after = Footprint.Take(self);
            double seconds = (after.At - connectedIdle.At).TotalSeconds;

            Row("client threads after the jobs", $"{connectedIdle.Threads}");
            Row("after the jobs, per node", $"{(connectedIdle.ManagedBytes - before.ManagedBytes) / (double)count / 1024:F1} KiB managed heap, {(connectedIdle.WorkingSet - before.WorkingSet) / (double)count / 1024:F1} KiB working set");
            Row("idle CPU", $"{(after.Cpu - connectedIdle.Cpu).TotalSeconds / seconds * 100:F2} % of one core ({seconds:F0} s)");
            Row("idle traffic per node", $"{(after.WrittenBytes - connectedIdle.WrittenBytes) / seconds / count:F1} B/s sent, {(after.ReadBytes - connectedIdle.ReadBytes) / seconds / count:F1} B/s received");
            return 0;
        }
        finally
        {
            foreach (PpServer node in nodes)
            {
                node.Dispose();
            }
        }
    }

    private static int Square(int x) => x * x;

    private static void Row(string what, string figure)
    {
        Console.WriteLine($"{what,-30} {figure}");
        Console.Out.Flush(); // each figure as soon as it is measured
    }

    /// <summary>
    /// What this process uses now. Bytes on the node connections come from the PPSharp meter's
    /// <c>ppsharp.network.io</c> (what the connections read and wrote, sealing included): /proc/self/io does not
    /// count socket sends and receives.
    /// </summary>
    private sealed record Footprint(DateTime At, int Threads, long ManagedBytes, long WorkingSet, TimeSpan Cpu, long ReadBytes, long WrittenBytes)
    {
        private static long s_received;
        private static long s_sent;
        private static MeterListener? s_listener;

        /// <summary>Starts counting the connections' bytes; call before the first connection.</summary>
        public static void Listen()
        {
            s_listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == "PPSharp" && instrument.Name == "ppsharp.network.io")
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            s_listener.SetMeasurementEventCallback<long>((_, bytes, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Value is "transmit")
                    {
                        Interlocked.Add(ref s_sent, bytes);
                    }
                    else if (tag.Value is "receive")
                    {
                        Interlocked.Add(ref s_received, bytes);
                    }
                }
            });
            s_listener.Start();
        }

        public static Footprint Take(Process self)
        {
            long managed = GC.GetTotalMemory(forceFullCollection: true);
            self.Refresh();
            return new Footprint(DateTime.UtcNow, self.Threads.Count, managed, self.WorkingSet64, self.TotalProcessorTime, Interlocked.Read(ref s_received), Interlocked.Read(ref s_sent));
        }
    }
}
