using System.Collections.Concurrent;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A node lost mid-run (killed with SIGKILL, or stopped with SIGTERM): the jobs it held are rescheduled locally,
/// every result is right, and each job's result and callback are delivered exactly once.
/// </summary>
/// <remarks>
/// Jobs wait at a <see cref="JobGate"/> only when they run on the node (its environment marks its workers), so the
/// node's jobs stay in flight until the node is gone, while local jobs run freely: nothing depends on timing.
/// </remarks>
public sealed class FaultToleranceTests : RemoteTestBase
{
    private const int JobCount = 60;

    /// <summary>The job: returns its own number; on the node it first waits at the gate (which is not opened while the node lives).</summary>
    public static int HoldOnNode(int number, int gatePort)
    {
        if (Environment.GetEnvironmentVariable(TestNode.OnNodeVariable) == "1")
        {
            JobGate.ArriveAndWait(gatePort);
        }

        return number;
    }

    [Fact]
    public async Task NodeKilledWithSigkillMidRun_LosesNoJob_AndDeliversEachResultAndCallbackOnce() =>
        await AssertNodeLossIsTransparentAsync(node => node.Process.Signal(PpServerProcess.SIGKILL), expectedExitCode: null);

    [Fact]
    public async Task NodeStoppedWithSigtermMidRun_LosesNoJob_AndDeliversEachResultAndCallbackOnce() =>
        await AssertNodeLossIsTransparentAsync(node => node.Process.Signal(PpServerProcess.SIGTERM), expectedExitCode: 0);

    /// <summary>A node whose every worker exits before introducing itself (the test parent's startup hook).</summary>
    private Task<TestNode> StartNodeWhoseWorkersCannotStartAsync() => StartNodeAsync(environment: new Dictionary<string, string>
    {
        ["DOTNET_STARTUP_HOOKS"] = OrphanWorkerTests.TestParentDll(),
        ["PPSHARP_TEST_WORKERS_CANNOT_START"] = "1",
    });

    [Fact]
    public async Task NodeWhoseWorkersCannotStart_RefusesTheClientWithTheReason_AndAnotherNodeRunsEveryJob()
    {
        using TestNode broken = await StartNodeWhoseWorkersCannotStartAsync();
        using TestNode sound = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [broken.Address, sound.Address], secret: Secret);
        await sound.WaitUntilActiveAsync(server);
        await broken.Process.WaitForErrorLineAsync(l => l.Contains("could not start", StringComparison.Ordinal), "the node giving up on its workers");

        var jobs = Enumerable.Range(0, 8).Select(i => server.Submit(Functions.Square, i)).ToList();

        // Before, such a node took jobs and failed them ("Local worker processes cannot start"); now it refuses.
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i * i), await jobs.AllWithin(Bounds.Heavy));
        Assert.All(jobs, job => Assert.Equal(sound.Address, job.Node));
        await Bounds.Until(() => server.GetNodeStatus().Single(n => n.Node == broken.Address).State == NodeConnectionState.Refused);
        NodeStatus status = server.GetNodeStatus().Single(n => n.Node == broken.Address);
        Assert.Contains("cannot start worker processes", status.LastError);
        Assert.Contains("this worker cannot start (the test's startup hook)", status.LastError);
    }

    [Fact]
    public async Task OnlyNodeWhoseWorkersCannotStart_FailsTheJobs_SayingWhy()
    {
        using TestNode broken = await StartNodeWhoseWorkersCannotStartAsync();
        await broken.Process.WaitForErrorLineAsync(l => l.Contains("could not start", StringComparison.Ordinal), "the node giving up on its workers");
        await using var server = new JobServer(0, ppservers: [broken.Address], secret: Secret);

        Job<int> job = server.Submit(Functions.Square, 3);

        var error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.Contains("every node refused this client", error.Message);
        Assert.Contains("cannot start worker processes", error.Message);
    }

    private async Task AssertNodeLossIsTransparentAsync(Action<TestNode> stop, int? expectedExitCode)
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 2, markWorkers: true);
        IReadOnlyList<int> nodeWorkers = [];
        try
        {
            await using var server = new JobServer(1, ppservers: [node.Address], secret: Secret);
            await node.WaitUntilActiveAsync(server);

            int callbacks = 0;
            var delivered = new ConcurrentQueue<int>();
            var jobs = Enumerable.Range(0, JobCount)
                .Select(i => server.Submit(HoldOnNode, i, gate.Port, (int result) =>
                {
                    Interlocked.Increment(ref callbacks);
                    delivered.Enqueue(result);
                }))
                .ToList();

            // A job has started on the node (only jobs there wait at the gate): the node is mid-run.
            await gate.NextArrivalAsync();
            nodeWorkers = node.WorkerPids();
            List<Job<int>> held = [.. jobs.Where(j => !j.IsCompleted)]; // includes the node's in-flight jobs

            stop(node);

            // The gate stays shut: the results come from the rescheduled copies, not from the node's.
            int[] results = await jobs.AllWithin();
            await server.WaitAsync().WaitAsync(Bounds.Hang);

            Assert.Equal(Enumerable.Range(0, JobCount).ToArray(), results);
            Assert.Equal(JobCount, Volatile.Read(ref callbacks));
            Assert.Equal(Enumerable.Range(0, JobCount).ToArray(), delivered.Order().ToArray()); // each once, none twice
            Assert.NotEmpty(held);
            Assert.All(held, job => Assert.Equal("local", job.Node)); // the node's jobs ran locally after it went
            Assert.All(jobs, job => Assert.False(job.IsFailed));
            Assert.Equal(JobCount, server.GetStats()["local"].JobCount);
            Assert.Equal(0, server.GetStats()[node.Address].JobCount);
            Assert.DoesNotContain(node.Address, server.GetActiveNodes().Keys);

            gate.Open();
            int exitCode = await node.Process.WaitForExitAsync();
            if (expectedExitCode is { } expected)
            {
                Assert.Equal(expected, exitCode);
            }

            // No worker of the node outlives it, even when it was killed and could not end them.
            Assert.Empty(await ProcessProbe.WaitForAllToExitAsync(nodeWorkers));
        }
        finally
        {
            gate.Open();

            // A killed node's workers are orphans now; they end by themselves, or are ended here, by pid.
            IReadOnlyList<int> lingering = await ProcessProbe.WaitForAllToExitAsync(nodeWorkers, TimeSpan.FromSeconds(20));
            foreach (int pid in lingering)
            {
                ProcessProbe.KillIfAlive(pid);
            }
        }
    }
}
