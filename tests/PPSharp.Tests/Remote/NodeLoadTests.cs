using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A real <c>ppserver</c> answers the client's heartbeat with its workers' load (NodeLoad): the client learns the
/// node's worker pids, their resident memory and CPU time, and which of them holds a job.
/// </summary>
public sealed class NodeLoadTests : RemoteTestBase
{
    private static Messages.NodeLoad? LoadOf(JobServer server) =>
        server.Scheduler.Observe().Executors.SingleOrDefault(e => e.IsRemote)?.Load;

    [Fact]
    public async Task Client_SeesTheNodesWorkerPids_WithTheirMemory_AndTheWorkerRunningAJobBusy()
    {
        using TestNode node = await StartNodeAsync(workers: 2);
        using var gate = new JobGate();
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        await node.WaitUntilActiveAsync(server);

        // The client pings on connecting and every few seconds after; the node answers with what its workers use.
        await Bounds.Until(() => LoadOf(server) is { Workers.Count: 2 });
        Messages.NodeLoad load = LoadOf(server)!;
        Assert.Equal(2, load.WorkerCount);
        Assert.Equal(node.WorkerPids().Order(), load.Workers.Select(w => w.ProcessId).Order());
        Assert.All(load.Workers, w => Assert.True(w.ResidentBytes > 1024 * 1024, $"worker {w.ProcessId}: {w.ResidentBytes} resident bytes"));
        Assert.All(load.Workers, w => Assert.True(w.CpuTicks > 0, $"worker {w.ProcessId}: no CPU time"));

        // A job held at the gate on the node: a later report shows the worker that runs it (the gate names it) busy.
        Job<int> job = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int pid = await gate.NextArrivalAsync();
        Assert.Contains(pid, load.Workers.Select(w => w.ProcessId));
        await Bounds.Until(() => LoadOf(server)?.Workers.Any(w => w.ProcessId == pid && w.Busy) == true);
        Assert.True(LoadOf(server)!.SampledAtMilliseconds > load.SampledAtMilliseconds);

        gate.Open();
        Assert.Equal(pid, await job.Within());
    }

    [Fact]
    public async Task Meter_CountsTheBytesSentToANode_AndReceivedFromIt_OverTheSealedConnection()
    {
        using var recorder = new PPSharp.Tests.Diagnostics.MeterRecorder();
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        byte[] argument = new byte[100_000];
        Assert.Equal(argument.Length, await server.Submit((byte[] b) => b.Length, argument).Within());

        // Both directions of this node's connection, counted from its own peer tag (other tests' nodes have other addresses).
        double Bytes(string direction) => recorder.Measurements("ppsharp.network.io")
            .Where(m => Equals(m.Tags.GetValueOrDefault("ppsharp.node"), node.Address) && Equals(m.Tags.GetValueOrDefault("network.io.direction"), direction))
            .Sum(m => m.Value);
        Assert.True(Bytes("transmit") > argument.Length, $"sent to the node: {Bytes("transmit")} bytes"); // the argument went out sealed
        Assert.True(Bytes("receive") > 0);
    }
}
