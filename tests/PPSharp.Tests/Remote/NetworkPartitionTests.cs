using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A real network partition: a <c>ppserver</c> runs in a Linux network namespace of the test's own, reached through a
/// veth pair, and the link is cut mid-run. The client gives the silent node up after its heartbeat limit, the jobs the
/// node held run locally, and every result and callback arrives exactly once; once the link is healed, the client
/// connects to the same node process again and jobs run there. Skipped, saying why, without root or <c>ip</c>.
/// </summary>
/// <remarks>
/// Jobs on the node wait at a <see cref="FileSystemGate"/> (a Unix socket found by its path, so the cut link does not
/// cut it), so the node's jobs stay in flight until the test opens it: the cut comes while the node holds jobs, with no
/// sleeps. Runs alone: a two-second heartbeat limit leaves little room for a machine loaded by other tests.
/// </remarks>
[Collection(nameof(RunsAlone))]
public sealed class NetworkPartitionTests(ITestOutputHelper output) : RemoteTestBase
{
    private readonly CapturingLoggerProvider _log = new();

    private const int FirstBatch = 300;
    private const int SecondBatch = 100;

    /// <summary>Short enough that the cut is found within seconds.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    public static long Expected(int number) => ((long)number * number) + 7;

    /// <summary>The job: waits at the gate wherever it runs, then returns its value.</summary>
    public static long HoldAtGate(int number, string gatePath)
    {
        FileSystemGate.ArriveAndWait(gatePath);
        return Expected(number);
    }

    [SkippableFact]
    public async Task LinkCutMidRun_NodeIsGivenUpAndItsJobsRunLocally_AfterHealingTheClientReconnects_EachResultOnce()
    {
        NetworkNamespace.SkipUnlessAvailable();
        var processes = new HashSet<int>();
        string name, hostInterface, subnet;
        using (NetworkNamespace network = NetworkNamespace.Create())
        {
            (name, hostInterface, subnet) = (network.Name, network.HostInterface, network.Subnet);
            TestNode? node = null;
            try
            {
                node = await TestNode.StartAsync(Secret, CacheHome, workers: 1, debug: true, host: network.NodeAddress, launcher: network.Exec);
                processes.Add(node.Pid);
                await CutAndHealAsync(network, node, processes);
            }
            finally
            {
                // Every process this test caused, stopped by pid: the node (and its workers, as a tree), then any that linger.
                if (node is not null)
                {
                    processes.UnionWith(node.WorkerPids());
                    node.Dispose();
                    output.WriteLine($"node {node.Address} (pid {node.Pid}), standard error:\n{node.Process.StandardError}");
                }

                output.WriteLine("client log:\n" + string.Join('\n', _log.Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}")));

                foreach (int pid in await ProcessProbe.WaitForAllToExitAsync(processes, TimeSpan.FromSeconds(20)))
                {
                    ProcessProbe.KillIfAlive(pid);
                }
            }
        }

        // Nothing is left behind: no process, no namespace, no veth, no route.
        Assert.Empty(await ProcessProbe.WaitForAllToExitAsync(processes));
        Assert.False(NetworkNamespace.NamespaceExists(name), $"namespace {name} is still there");
        Assert.False(NetworkNamespace.InterfaceExists(hostInterface), $"interface {hostInterface} is still there");
        Assert.False(NetworkNamespace.RouteExists(subnet), $"a route for {subnet} is still there");
    }

    private async Task CutAndHealAsync(NetworkNamespace network, TestNode node, HashSet<int> processes)
    {
        using ILoggerFactory logging = LoggerFactory.Create(b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Debug));
        var options = new JobServerOptions { Ncpus = 1, Secret = Secret, HeartbeatTimeout = Heartbeat, LoggerFactory = logging };
        options.PpServers.Add(node.Address);
        await using var server = new JobServer(options);
        var finished = new ConcurrentDictionary<long, int>(); // JobFinished raised, per job id
        server.JobFinished += (_, e) => finished.AddOrUpdate(e.Job.Id, 1, (_, n) => n + 1);
        var callbacks = new int[FirstBatch + SecondBatch]; // callbacks run, per job number
        var wrong = new ConcurrentQueue<string>();
        Action<long> CallbackFor(int number) => result =>
        {
            Interlocked.Increment(ref callbacks[number]);
            if (result != Expected(number))
            {
                wrong.Enqueue($"job {number}: callback got {result}");
            }
        };

        await node.WaitUntilActiveAsync(server);
        using (var gate = new FileSystemGate(Path.Combine(Folder, "first.sock")))
        {
            var first = Enumerable.Range(0, FirstBatch).Select(i => server.Submit(HoldAtGate, i, gate.Path, CallbackFor(i))).ToList();

            // Mid-run: the local worker and the node's worker each hold a job at the gate, and the node holds more ahead.
            await ArrivalsFromBothAsync(gate, node, processes);
            long[] heldOnNode = [.. server.GetJobs().Where(j => j.Node == node.Address).Select(j => j.Id)];
            Assert.NotEmpty(heldOnNode);

            // The cut. Then the gate opens: the node runs what it holds, but its results cannot come back.
            network.Cut();
            gate.Open();

            // Silent now: given up after the heartbeat limit; the jobs it held run again locally.
            await Bounds.Until(() => Status(server, node).State != NodeConnectionState.Connected);
            long[] results = await first.AllWithin();
            await server.WaitAsync().WaitAsync(Bounds.Hang);

            Assert.Equal(Enumerable.Range(0, FirstBatch).Select(Expected), results);
            Assert.All(first.Where(j => heldOnNode.Contains(j.Id)), j => Assert.Equal("local", j.Node));
            Assert.All(first, j => Assert.False(j.IsFailed));
            Assert.DoesNotContain(node.Address, server.GetActiveNodes().Keys);

            // Still cut: every attempt to reconnect fails, and the node is listed as unreachable, with why.
            NodeStatus cut = Status(server, node);
            Assert.Equal(NodeConnectionState.Unreachable, cut.State);
            Assert.NotNull(cut.LastError);

            network.Heal();
        }

        // Healed: the client connects to the same node process again (it was never restarted) ...
        await node.WaitUntilActiveAsync(server);
        Assert.Equal(NodeConnectionState.Connected, Status(server, node).State);
        Assert.True(ProcessProbe.IsAlive(node.Pid));

        // ... and jobs run there again: with every job held at the gate, the node's worker holds one.
        using (var gate = new FileSystemGate(Path.Combine(Folder, "second.sock")))
        {
            var second = Enumerable.Range(FirstBatch, SecondBatch).Select(i => server.Submit(HoldAtGate, i, gate.Path, CallbackFor(i))).ToList();
            await ArrivalsFromBothAsync(gate, node, processes);

            gate.Open();
            long[] results = await second.AllWithin();
            await server.WaitAsync().WaitAsync(Bounds.Hang);

            Assert.Equal(Enumerable.Range(FirstBatch, SecondBatch).Select(Expected), results);
            Assert.Contains(second, j => j.Node == node.Address);
            Assert.All(second, j => Assert.False(j.IsFailed));
        }

        // Exactly once, across the cut and the reconnection: one callback per job number, one JobFinished per job.
        Assert.Empty(wrong);
        Assert.All(callbacks, count => Assert.Equal(1, count));
        Assert.Equal(FirstBatch + SecondBatch, finished.Count);
        Assert.All(finished.Values, count => Assert.Equal(1, count));
    }

    /// <summary>
    /// Waits for jobs at the gate until both a worker of the node and a local worker (a child of this process) hold one,
    /// and notes every process seen. Each worker holds one job at a time, so these are two workers, one on each side.
    /// </summary>
    private static async Task ArrivalsFromBothAsync(FileSystemGate gate, TestNode node, HashSet<int> processes)
    {
        bool onNode = false, local = false;
        while (!(onNode && local))
        {
            int pid = await gate.NextArrivalAsync();
            processes.Add(pid);
            int? parent = ProcessProbe.ParentOf(pid);
            onNode |= parent == node.Pid;
            local |= parent == Environment.ProcessId;
        }
    }

    private static NodeStatus Status(JobServer server, TestNode node) =>
        server.GetNodeStatus().Single(s => s.Node == node.Address);
}
