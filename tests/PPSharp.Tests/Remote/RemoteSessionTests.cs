using System.Text.RegularExpressions;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A client and real ppserver nodes on 127.0.0.1: the seed's remote session, a node that starts after its client,
/// and two clients sharing one node.
/// </summary>
public sealed class RemoteSessionTests : RemoteTestBase
{
    [Fact]
    public async Task LargeArgumentsAndResults_CrossTheNodeIntact_InSealedRecordsOfReusedBuffers()
    {
        // Records over 1 MiB are sealed and opened in reused arrays on both ends: several large jobs in flight at once,
        // of sizes that shrink and grow, each come back as sent.
        using TestNode node = await StartNodeAsync(workers: 2);
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        int[] sizes = [3 << 20, (2 << 20) + 17, 5 << 20, (1 << 20) + 1, 4 << 20];
        byte[][] data = Functions.RandomArrays(100, sizes);

        Job<byte[]>[] echoes = [.. data.Select(d => server.Submit(Functions.Echo<byte[]>, d))];
        Job<int>[] sums = [.. data.Select(d => server.Submit((byte[] b) => b.Sum(x => (int)x), d))];

        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(data[i], await echoes[i].AsTask().WaitAsync(Bounds.Heavy));
            Assert.Equal(data[i].Sum(x => (int)x), await sums[i].AsTask().WaitAsync(Bounds.Heavy));
        }
    }

    [Fact]
    public async Task LargeJobsHeldAheadOnANodesWorkerThatCrashes_RunAgainThereWithTheirOwnArguments()
    {
        // The node keeps each large body it received, in a reused array, until the job is answered: a job its
        // crashing worker held ahead is sent again from that array, and every job sees exactly its own argument.
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1);
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<int> crashing = server.Submit(WorkerCrashTests.ArriveThenExit, gate.Port);
        await gate.NextArrivalAsync();

        byte[][] data = Functions.RandomArrays(3000, Enumerable.Range(0, 6).Select(i => (2 << 20) + ((5 - i) * 4099))); // each fits in the arrays before it
        Job<string>[] jobs = [.. data.Select(d => server.Submit(Functions.Digest, d))];
        gate.Open();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => crashing.Within());
        Assert.Equal(data.Select(Functions.Digest), await jobs.AllWithin(Bounds.Heavy));
    }

    [Fact]
    public async Task SeedSession_RunsAllThreeSineJobsOnTheNode_AndShowsThemOnItsStatisticsRow()
    {
        using TestNode node = await StartNodeAsync(workers: 2);
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<double> f1 = server.Submit(Math.Sin, Math.PI / 2);
        Job<double> f2 = server.Submit(Math.Sin, 0.0);
        Job<double> f3 = server.Submit(Math.Sin, -Math.PI / 2);

        Assert.Equal(1.0, await f1.Within(), 12);
        Assert.Equal(0.0, await f2.Within(), 12);
        Assert.Equal(-1.0, await f3.Within(), 12);
        Assert.All(new Job[] { f1, f2, f3 }, job => Assert.Equal(node.Address, job.Node));

        IReadOnlyDictionary<string, NodeStats> stats = server.GetStats();
        Assert.Equal(3, stats[node.Address].JobCount);
        Assert.Equal(2, stats[node.Address].Ncpus);
        Assert.Equal(0, stats["local"].JobCount);

        IReadOnlyDictionary<string, int> active = server.GetActiveNodes();
        Assert.Equal(2, active[node.Address]);
        Assert.Equal(0, active["local"]);

        var table = new StringWriter();
        server.PrintStats(table);
        string[] rows = table.ToString().Split(Environment.NewLine);
        string[] nodeRows = [.. rows.Where(r => r.EndsWith($"| {node.Address}", StringComparison.Ordinal))];
        Assert.Single(nodeRows);
        Assert.Matches(@"^\s+3 \|\s+100\.00 \|", nodeRows[0]);
        Assert.DoesNotContain(rows, r => r.EndsWith("| local", StringComparison.Ordinal)); // ppft prints rows with jobs only
    }

    [Fact]
    public async Task QueuedJobs_RunOnANodeThatStartsAfterTheClient()
    {
        int port = TestNode.ReservePort();
        string address = $"127.0.0.1:{port}";
        await using var server = new JobServer(0, ppservers: [address], secret: Secret);

        var jobs = new[] { 1, 2, 3 }.Select(i => server.Submit(Functions.Square, i)).ToList();

        // Nothing can run them yet: no local workers, and the node is not there.
        Assert.All(jobs, job => Assert.False(job.IsCompleted));
        Assert.DoesNotContain(address, server.GetActiveNodes().Keys);

        using TestNode node = await StartNodeAsync(port: port);

        Assert.Equal(new[] { 1, 4, 9 }, await jobs.AllWithin());
        Assert.All(jobs, job => Assert.Equal(address, job.Node));
        Assert.Equal(3, server.GetStats()[address].JobCount);
    }

    public static int WaitAtGate(int gatePort, int value)
    {
        JobGate.ArriveAndWait(gatePort);
        return value;
    }

    [Fact]
    public async Task TwoClients_ShareOneNode_AndBothGetTheirOwnResults()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 2);
        await using var first = new JobServer(0, ppservers: [node.Address], secret: Secret);
        await using var second = new JobServer(0, ppservers: [node.Address], secret: Secret);
        await node.WaitUntilActiveAsync(first);
        await node.WaitUntilActiveAsync(second);

        // One job from each client waits at the gate: both arriving shows the node runs both clients' jobs at once.
        Job<int> firstHeld = first.Submit(WaitAtGate, gate.Port, -1);
        Job<int> secondHeld = second.Submit(WaitAtGate, gate.Port, -2);
        int offset = 1000;
        var firstJobs = Enumerable.Range(0, 20).Select(i => first.Submit((int x) => x + offset, i)).ToList();
        var secondJobs = Enumerable.Range(0, 20).Select(i => second.Submit((int x) => $"second {x}", i)).ToList();

        int[] arrivals = [await gate.NextArrivalAsync(), await gate.NextArrivalAsync()];
        Assert.NotEqual(arrivals[0], arrivals[1]); // two different worker processes of the node
        gate.Open();

        Task<int[]> firstResults = firstJobs.AllWithin();
        Task<string[]> secondResults = secondJobs.AllWithin();
        Assert.Equal(Enumerable.Range(1000, 20).ToArray(), await firstResults);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"second {i}").ToArray(), await secondResults);
        Assert.Equal(-1, await firstHeld.Within());
        Assert.Equal(-2, await secondHeld.Within());
        Job[] all = [.. firstJobs, .. secondJobs, firstHeld, secondHeld];
        Assert.All(all, job => Assert.Equal(node.Address, job.Node));
        Assert.Equal(21, first.GetStats()[node.Address].JobCount);
        Assert.Equal(21, second.GetStats()[node.Address].JobCount);
    }
}
