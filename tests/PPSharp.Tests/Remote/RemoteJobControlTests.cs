namespace PPSharp.Tests.Remote;

/// <summary>
/// Job control through a real <c>ppserver</c>: a time limit ends an endless job on the node and the node keeps serving;
/// a cancelled job stops on the node; a client that goes away leaves no job running there; a map runs on the node;
/// a job held ahead on the node is taken back by a local worker that frees up.
/// </summary>
public sealed class RemoteJobControlTests : RemoteTestBase
{
    public static int Forever(int port)
    {
        JobGate.Arrive(port);
        while (true)
        {
        }
    }

    public static int Pid() => Environment.ProcessId;

    public static int WaitAtGate(int port) => JobGate.ArriveAndWait(port);

    [Fact]
    public async Task ATimeLimit_EndsAnEndlessJobOnANode_AndTheNodeKeepsServing()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1);
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<int> endless = server.Submit(Forever, gate.Port, options: new JobOptions { Timeout = TimeSpan.FromMilliseconds(500) });
        int nodeWorker = await gate.NextArrivalAsync();

        TimeoutException error = await Assert.ThrowsAnyAsync<TimeoutException>(() => endless.Within());
        Assert.Contains("500 ms", error.Message);
        Job<int> next = server.Submit(Pid);
        Assert.NotEqual(nodeWorker, await next.Within()); // the node replaced the worker it had to stop
        Assert.Equal(node.Address, next.Node);
    }

    public static (int Pid, string? Value) PidAndInit() => (Environment.ProcessId, Environment.GetEnvironmentVariable("PPSHARP_TEST_INIT"));

    [Fact]
    public async Task TheWorkerInitializer_RunsOnANodesWorker_BeforeTheClientsFirstJob_AndAgainOnItsReplacement()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1);
        string marker = $"init-{Guid.NewGuid():N}";
        var options = new JobServerOptions { Ncpus = 0, Secret = Secret, WorkerInitializer = () => Environment.SetEnvironmentVariable("PPSHARP_TEST_INIT", marker) };
        options.PpServers.Add(node.Address);
        using var server = new JobServer(options);

        (int Pid, string? Value)[] first = await Enumerable.Range(0, 4).Select(_ => server.Submit(PidAndInit)).AllWithin();
        Assert.All(first, seen => Assert.Equal(marker, seen.Value));

        // A time limit makes the node replace its only worker; the new one runs the initializer before this client's next job.
        Job<int> endless = server.Submit(Forever, gate.Port, options: new JobOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        await gate.NextArrivalAsync();
        await Assert.ThrowsAnyAsync<TimeoutException>(() => endless.Within());
        (int pid, string? value) = await server.Submit(PidAndInit).Within();

        Assert.NotEqual(first[0].Pid, pid);
        Assert.Equal(marker, value);
    }

    [Fact]
    public async Task AnotherClientsInitializer_DoesNotRunForAClientWithout_ButRunsBeforeItsOwnJobs()
    {
        using TestNode node = await StartNodeAsync(workers: 1);
        string marker = $"init-{Guid.NewGuid():N}";
        using var plain = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Assert.Null((await plain.Submit(PidAndInit).Within()).Value);

        var options = new JobServerOptions { Ncpus = 0, Secret = Secret, WorkerInitializer = () => Environment.SetEnvironmentVariable("PPSHARP_TEST_INIT", marker) };
        options.PpServers.Add(node.Address);
        using var initialized = new JobServer(options);

        Assert.Equal(marker, (await initialized.Submit(PidAndInit).Within()).Value); // the same worker, initialized for this client
    }

    [Fact]
    public async Task APoisonJobOnANode_FailsAfterItsRetries_WithTheAttempts_AndTheNodeKeepsServing()
    {
        string attempts = Path.Combine(Path.GetTempPath(), $"ppsharp-poison-{Guid.NewGuid():N}.txt");
        try
        {
            using TestNode node = await StartNodeAsync(workers: 1);
            using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
            Job<int> poison = server.Submit(JobControlTests.Crash, attempts, options: new JobOptions { Retries = 1 });

            WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => poison.Within());
            Assert.Contains("2 attempts", error.Message);
            Assert.Equal(2, File.ReadAllLines(attempts).Length);
            Job<(int Pid, string? Value)> next = server.Submit(PidAndInit);
            await next.Within();
            Assert.Equal(node.Address, next.Node);
        }
        finally
        {
            File.Delete(attempts);
        }
    }

    [Fact]
    public async Task ANodesMaxJobsPerWorker_ReplacesItsWorkerAfterThatManyJobs()
    {
        using TestNode node = await StartNodeAsync(workers: 1, extraArguments: ["--max-jobs-per-worker", "2"]);
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        var pids = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            pids.Add((await server.Submit(PidAndInit).Within()).Pid);
        }

        Assert.Equal(3, pids.Distinct().Count());
        Assert.Equal(pids[0], pids[1]);
        Assert.NotEqual(pids[1], pids[2]);
    }

    [Fact]
    public async Task ANodesMaxOutput_BoundsAJobsConsoleOutput()
    {
        using TestNode node = await StartNodeAsync(workers: 1, extraArguments: ["--max-output", "2000"]);
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<int> job = server.Submit(OutputCaptureTests.Chatter, 50_000);

        Assert.Equal(50_000, await job.Within());
        Assert.True(job.Output!.Length < 2_400, $"{job.Output.Length} characters kept");
        Assert.Contains("were cut here", job.Output);
        Assert.EndsWith("last words" + Environment.NewLine, job.Output);
    }

    [Fact]
    public async Task CancellingAJobRunningOnANode_StopsIt_AndTheNodeRunsTheNextJob()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1);
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<int> endless = server.Submit(Forever, gate.Port);
        int nodeWorker = await gate.NextArrivalAsync();

        Assert.True(endless.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endless.Within());
        Assert.NotEqual(nodeWorker, await server.Submit(Pid).Within());
    }

    [Fact]
    public async Task AClientThatGoesAway_LeavesNoJobRunningOnTheNode()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1);
        using (var first = new JobServer(0, ppservers: [node.Address], secret: Secret))
        {
            _ = first.Submit(Forever, gate.Port);
            await gate.NextArrivalAsync();
        }

        // The node's only worker was running the departed client's endless job: another client still gets served.
        using var second = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Assert.True(await second.Submit(Pid).Within() > 0);
    }

    [Fact]
    public async Task AMap_RunsOnANode_InOrder()
    {
        using TestNode node = await StartNodeAsync(workers: 2);
        using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        List<int> squares = await Bounds.RunWithin(() => server.Map(Functions.Square, Enumerable.Range(0, 200), chunkSize: 7).ToList());
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * i), squares);
    }

    [Fact]
    public async Task AJobHeldAheadOnABusyNode_IsTakenBack_ByALocalWorkerThatFreesUp()
    {
        using var nodeGate = new JobGate();
        using var localGate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1, markWorkers: true);
        using var server = new JobServer(1, ppservers: [node.Address], secret: Secret);
        await node.WaitUntilActiveAsync(server);

        // One job blocks the local worker, one the node's worker (whichever was ready first takes the first); then jobs
        // are held ahead on both.
        Job<int> one = server.Submit(WaitWhereItRuns, localGate.Port, nodeGate.Port);
        Task<int> localArrival = localGate.NextArrivalAsync();
        Task<int> nodeArrival = nodeGate.NextArrivalAsync();
        bool firstIsLocal = await Task.WhenAny(localArrival, nodeArrival) == localArrival;
        Job<int> two = server.Submit(WaitWhereItRuns, localGate.Port, nodeGate.Port);
        await Task.WhenAll(localArrival, nodeArrival);
        (Job<int> local, Job<int> remote) = firstIsLocal ? (one, two) : (two, one);
        var ahead = Enumerable.Range(0, 3).Select(_ => server.Submit(Pid)).ToList();

        // Free the local worker only: it runs everything held ahead, including what the node gives back.
        localGate.Open();
        await local.Within();
        int[] pids = await ahead.AllWithin();
        Assert.Single(pids.Distinct());
        Assert.All(ahead, job => Assert.Equal("local", job.Node));
        Assert.False(remote.IsCompleted);
        nodeGate.Open();
        await remote.Within();
    }

    [Fact]
    public async Task AFrozenNode_IsDroppedPastTheHeartbeatTimeout_AndItsJobRunsElsewhere()
    {
        using var gate = new JobGate();
        using TestNode node = await StartNodeAsync(workers: 1, markWorkers: true);
        using var server = new JobServer(new JobServerOptions { Ncpus = 0, Secret = Secret, HeartbeatTimeout = TimeSpan.FromSeconds(2), SocketTimeout = TimeSpan.FromMinutes(5), PpServers = { node.Address } });
        Job<string> job = server.Submit(WhereItRuns, gate.Port);
        await gate.NextArrivalAsync();

        node.Process.Signal(PPSharp.Tests.Server.PpServerProcess.SIGSTOP);
        server.Ncpus = 1;

        Assert.Equal("elsewhere", await job.Within());
        Assert.Equal("local", job.Node);
        Assert.DoesNotContain(node.Address, server.GetActiveNodes().Keys);
    }

    /// <summary>On the node: waits at the gate (never opened). Elsewhere: says so.</summary>
    public static string WhereItRuns(int port)
    {
        if (Environment.GetEnvironmentVariable(TestNode.OnNodeVariable) == "1")
        {
            JobGate.ArriveAndWait(port);
            return "node";
        }

        return "elsewhere";
    }

    /// <summary>Waits at the node's gate on the node, at the local gate elsewhere.</summary>
    public static int WaitWhereItRuns(int localPort, int nodePort) =>
        JobGate.ArriveAndWait(Environment.GetEnvironmentVariable(TestNode.OnNodeVariable) == "1" ? nodePort : localPort);
}
