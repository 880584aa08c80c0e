using System.Globalization;
using Xunit.Abstractions;

namespace PPSharp.Tests.Remote;

/// <summary>Runs alone: it measures the test process's own threads and CPU, which another test running beside it would blur.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>
/// One client and fifty real <c>ppserver</c> processes on loopback, one worker each: every node is connected and
/// runs a job, and what the client spends per node stays small: no thread per node, and next to no CPU while idle
/// (heartbeats only). The benchmark (<c>PPSharp.Bench nodes</c>) measures the same with up to a hundred nodes and
/// prints the figures docs/performance.md quotes.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class ManyNodesTests(ITestOutputHelper output) : RemoteTestBase
{
    private const int NodeCount = 50;

    public static int HoldAtGate(int number, int gatePort)
    {
        JobGate.ArriveAndWait(gatePort);
        return number;
    }

    [Fact]
    public async Task FiftyNodes_AreAllConnectedAndUsed_WithNoThreadPerNode_AndIdleCpuNearZero()
    {
        var nodes = new List<TestNode>();
        var clock = Stopwatch.StartNew();
        try
        {
            // Started a few at a time: fifty .NET processes (and their workers) at once would only thrash two cores.
            foreach (int[] batch in Enumerable.Range(0, NodeCount).Chunk(5))
            {
                nodes.AddRange(await Task.WhenAll(batch.Select(_ => StartNodeAsync(workers: 1))));
            }

            output.WriteLine($"{clock.Elapsed}: {NodeCount} nodes started");
            using Process self = Process.GetCurrentProcess();
            int threadsBefore = ThreadCount(self);

            // Fifty nodes and their workers on two cores can stall a process for seconds: a generous heartbeat limit, so
            // that no node is given up (and its job stopped there and run again elsewhere) while this test counts them.
            var options = new JobServerOptions { Ncpus = 0, Secret = Secret, HeartbeatTimeout = TimeSpan.FromMinutes(2), SocketTimeout = TimeSpan.FromMinutes(2) };
            foreach (TestNode node in nodes)
            {
                options.PpServers.Add(node.Address);
            }

            await using var server = new JobServer(options);
            foreach (TestNode node in nodes)
            {
                await node.WaitUntilActiveAsync(server);
            }

            output.WriteLine($"{clock.Elapsed}: all connected");

            // Every node gets a job: each has one worker, and all fifty jobs wait at the gate until all have arrived.
            using (var gate = new JobGate())
            {
                var jobs = Enumerable.Range(0, NodeCount).Select(i => server.Submit(HoldAtGate, i, gate.Port)).ToList();
                var workers = new HashSet<int>();
                for (int i = 0; i < NodeCount; i++)
                {
                    workers.Add(await gate.NextArrivalAsync(Bounds.Heavy));
                }

                // Fifty different worker processes held a job at once: one per node, since each node has one worker.
                // (Which node a job's result finally comes from is not asserted: on an overloaded machine a node may
                // miss its heartbeat and its job run again elsewhere, which is the fault tolerance doing its work.)
                Assert.Equal(NodeCount, workers.Count);
                gate.Open();
                Assert.Equal(Enumerable.Range(0, NodeCount), await jobs.AllWithin());
                Assert.Equal(nodes.Select(n => n.Address).Order(), jobs.Select(j => j.Node!).Distinct().Order()); // every node ran one
            }

            output.WriteLine($"{clock.Elapsed}: a job ran on every node");

            // Idle, connected to fifty nodes: a few seconds of heartbeats.
            int threadsConnected = ThreadCount(self);
            self.Refresh();
            TimeSpan cpuBefore = self.TotalProcessorTime;
            var idle = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(6)); // a measuring window, not a wait for anything
            self.Refresh();
            double idleCpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds / idle.Elapsed.TotalSeconds;

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{NodeCount} nodes: client threads {threadsBefore} before, {threadsConnected} connected; idle CPU {idleCpu:P2} of one core"));
            // Fewer new threads than nodes: a thread per node would add at least fifty. (The thread pool itself grows by a
            // few dozen after the burst of fifty connections and uploads on two cores; that is not per node.)
            Assert.True(threadsConnected - threadsBefore < NodeCount,
                $"the client went from {threadsBefore} to {threadsConnected} threads with {NodeCount} nodes: a thread per node?");
            Assert.True(idleCpu < 0.25, $"the idle client used {idleCpu:P1} of a core with {NodeCount} nodes connected");
            foreach (TestNode node in nodes)
            {
                await node.WaitUntilActiveAsync(server); // all still (or again) connected
            }

            output.WriteLine($"{clock.Elapsed}: measured");
        }
        finally
        {
            // Each kill looks for the node's workers among every process: fifty of those one after another are slow.
            Parallel.ForEach(nodes, node => node.Dispose());
            output.WriteLine($"{clock.Elapsed}: nodes stopped");
        }
    }

    private static int ThreadCount(Process process)
    {
        process.Refresh();
        return process.Threads.Count;
    }
}
