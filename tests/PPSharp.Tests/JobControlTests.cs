namespace PPSharp.Tests;

/// <summary>
/// Job control with real workers: cancelling queued and running jobs (cooperatively and not), time limits, retries of
/// jobs that crash their worker, priorities, job states, the worker initializer and restarting after N jobs.
/// </summary>
public sealed class JobControlTests : IDisposable
{
    private static readonly JobServerOptions QuickGrace = new() { Ncpus = 1, CancelGracePeriod = TimeSpan.FromMilliseconds(200) };

    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-control-").FullName;

    public static int WaitAtGate(int port) => JobGate.ArriveAndWait(port);

    public static int Pid() => Environment.ProcessId;

    public static string Touch(string path)
    {
        File.AppendAllText(path, "ran" + Environment.NewLine);
        return path;
    }

    public static int Forever(int port)
    {
        JobGate.Arrive(port);
        while (true)
        {
        }
    }

    /// <summary>Waits for its token, records that it saw it, and gives up as a cooperative job should.</summary>
    public static int Cooperative(int port, string path, CancellationToken token)
    {
        JobGate.Arrive(port);
        token.WaitHandle.WaitOne();
        File.WriteAllText(path, "saw the token");
        token.ThrowIfCancellationRequested();
        return 0;
    }

    public static int Crash(string path)
    {
        File.AppendAllText(path, "attempt" + Environment.NewLine);
        Environment.FailFast("PPSharp test: poison job");
        return 0;
    }

    public static string Record(string path, string name)
    {
        File.AppendAllText(path, name + Environment.NewLine);
        return name;
    }

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Fact]
    public async Task CancellingAQueuedJob_ItNeverRuns_AndCancelReturnsTrue()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> blocker = server.Submit(WaitAtGate, gate.Port);
        await gate.NextArrivalAsync();
        Job<string> heldAhead = server.Submit(Touch, PathOf("ahead.txt"));
        Job<string> queued = server.Submit(Touch, PathOf("queued.txt"));
        Assert.Equal(JobState.Sent, heldAhead.State);
        Assert.Equal(JobState.Queued, queued.State);
        IReadOnlyList<JobInfo> listed = server.GetJobs();
        Assert.Equal([blocker.Id, heldAhead.Id, queued.Id], listed.Select(j => j.Id));
        Assert.Equal(new JobInfo(heldAhead.Id, JobServer.DefaultGroup, JobState.Sent, "local"), listed[1]);
        Assert.Equal(new JobInfo(queued.Id, JobServer.DefaultGroup, JobState.Queued, null), listed[2]);

        Assert.True(queued.Cancel());
        Assert.True(heldAhead.Cancel());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.Within());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => heldAhead.Within());
        Assert.Equal(JobState.Cancelled, queued.State);
        Assert.False(queued.Cancel());

        gate.Open();
        await blocker.Within();
        string after = PathOf("after.txt");
        await server.Submit(Touch, after).Within(); // runs after any cancelled job would have
        Assert.True(File.Exists(after));
        Assert.False(File.Exists(PathOf("ahead.txt")));
        Assert.False(File.Exists(PathOf("queued.txt")));
        Assert.Throws<JobCancelledException>(() => queued.Result);
    }

    [Fact]
    public async Task CancellingARunningJobThatIgnoresItsToken_ReplacesTheWorker_AndTheNextJobRuns()
    {
        using var gate = new JobGate();
        using var server = new JobServer(QuickGrace);
        Job<int> endless = server.Submit(Forever, gate.Port);
        int pid = await gate.NextArrivalAsync();
        await Bounds.Until(() => endless.State == JobState.Running); // its start is acknowledged on the worker channel

        Assert.True(endless.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endless.Within());
        int next = await server.Submit(Pid).Within();
        Assert.NotEqual(pid, next);
    }

    [Fact]
    public async Task CancellingACooperativeJob_SignalsItsToken_AndKeepsTheWorker()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        using var cancel = new CancellationTokenSource();
        string saw = PathOf("saw.txt");
        Job<int> job = server.Submit(Cooperative, gate.Port, saw, CancellationToken.None, options: new JobOptions { CancellationToken = cancel.Token });
        int pid = await gate.NextArrivalAsync();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.Within());
        Assert.Equal("saw the token", File.ReadAllText(saw));
        Assert.Equal(pid, await server.Submit(Pid).Within());
    }

    [Fact]
    public async Task ATimeLimit_EndsAnEndlessJob_WithTimeoutExceptionNamingTheLimit_AndTheServerGoesOn()
    {
        using var gate = new JobGate();
        using var server = new JobServer(QuickGrace);
        Job<int> endless = server.Submit(Forever, gate.Port, options: new JobOptions { Timeout = TimeSpan.FromMilliseconds(300) });

        TimeoutException error = await Assert.ThrowsAnyAsync<TimeoutException>(() => endless.Within());
        Assert.Contains("300 ms", error.Message);
        Assert.Equal(JobState.Failed, endless.State);
        Assert.True((await server.Submit(Pid).Within()) > 0);
    }

    [Fact]
    public async Task TheServersDefaultTimeLimit_AppliesToJobsWithoutTheirOwn()
    {
        using var gate = new JobGate();
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, CancelGracePeriod = TimeSpan.FromMilliseconds(200), DefaultJobTimeout = TimeSpan.FromMilliseconds(400) });
        Job<int> endless = server.Submit(Forever, gate.Port);
        await Assert.ThrowsAnyAsync<TimeoutException>(() => endless.Within());
    }

    [Fact]
    public async Task APoisonJob_FailsAfterItsRetries_WithTheAttemptsInTheMessage_WhileOtherJobsSucceed()
    {
        string attempts = PathOf("attempts.txt");
        using var server = new JobServer(2);
        Job<int> poison = server.Submit(Crash, attempts, options: new JobOptions { Retries = 2 });
        var others = Enumerable.Range(0, 20).Select(i => server.Submit(Functions.Square, i)).ToList();

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => poison.Within());
        Assert.Contains("3 attempts", error.Message);
        Assert.Equal(3, File.ReadAllLines(attempts).Length);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), await others.AllWithin());
    }

    /// <summary>Throws IOException on its first two attempts (counted in a file), then succeeds; any other kind of trouble throws InvalidOperationException.</summary>
    public static int Flaky(string path, bool ioTrouble)
    {
        File.AppendAllText(path, "attempt" + Environment.NewLine);
        if (File.ReadAllLines(path).Length < 3)
        {
            throw ioTrouble ? new IOException("flaky disk") : new InvalidOperationException("not retried");
        }

        return 42;
    }

    [Fact]
    public async Task RetryOn_RetriesTheNamedExceptions_AfterTheDelay_AndNoOthers()
    {
        using var server = new JobServer(1);
        var options = new JobOptions { Retries = 2, RetryOn = [typeof(IOException)], RetryDelay = TimeSpan.FromMilliseconds(50) };

        Assert.Equal(42, await server.Submit(Flaky, PathOf("io.txt"), true, options: options).Within());
        Assert.Equal(3, File.ReadAllLines(PathOf("io.txt")).Length);

        Job<int> other = server.Submit(Flaky, PathOf("other.txt"), false, options: options);
        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => other.Within());
        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteType);
        Assert.Single(File.ReadAllLines(PathOf("other.txt")));
    }

    [Fact]
    public async Task HigherPriorityJobs_LeaveTheQueueFirst_FirstInFirstOutAmongEquals()
    {
        string order = PathOf("order.txt");
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> blocker = server.Submit(WaitAtGate, gate.Port);
        await gate.NextArrivalAsync();

        // The first is held ahead on the busy worker; the rest wait in the queue, where priority decides.
        var jobs = new List<Job<string>>
        {
            server.Submit(Record, order, "first"),
            server.Submit(Record, order, "low1", options: new JobOptions { Priority = -1 }),
            server.Submit(Record, order, "normal1"),
            server.Submit(Record, order, "high1", options: new JobOptions { Priority = 5 }),
            server.Submit(Record, order, "normal2"),
            server.Submit(Record, order, "high2", options: new JobOptions { Priority = 5 }),
        };
        gate.Open();
        await jobs.AllWithin();

        Assert.Equal(["first", "high1", "high2", "normal1", "normal2", "low1"], File.ReadAllLines(order));
    }

    [Fact]
    public async Task TheWorkerInitializer_RunsInEachWorker_BeforeItsFirstJob()
    {
        string marker = PathOf("init");
        using var server = new JobServer(new JobServerOptions
        {
            Ncpus = 2,
            WorkerInitializer = () => Environment.SetEnvironmentVariable("PPSHARP_TEST_INIT", marker),
        });

        string?[] seen = await Enumerable.Range(0, 8).Select(_ => server.Submit(() => Environment.GetEnvironmentVariable("PPSHARP_TEST_INIT"))).AllWithin();
        Assert.All(seen, value => Assert.Equal(marker, value));
    }

    [Fact]
    public async Task State_IsTheOutcome_AsSoonAsItIsIn_WhileTheCallbackStillRuns()
    {
        using var server = new JobServer(1);
        using var inCallback = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Job<int> job = server.Submit(Functions.Square, 3, callback: _ =>
        {
            inCallback.Set();
            release.Wait(Bounds.Hang);
        });

        await Bounds.RunWithin(() => inCallback.Wait());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.False(job.IsCompleted);
        Assert.DoesNotContain(server.GetJobs(), info => info.Id == job.Id && info.State == JobState.Queued);
        release.Set();
        Assert.Equal(9, await job.Within());
    }

    [Fact]
    public async Task MaxJobsPerWorker_ReplacesEachWorkerAfterItsJobs()
    {
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, MaxJobsPerWorker = 2 });
        var pids = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            pids.Add(await server.Submit(Pid).Within());
        }

        Assert.Equal(3, pids.Distinct().Count());
        Assert.Equal(pids[0], pids[1]);
        Assert.NotEqual(pids[1], pids[2]);
    }

    [Fact]
    public void BadOptions_AreRefusedAtSubmit()
    {
        using var server = new JobServer(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => server.Submit(Pid, options: new JobOptions { Timeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.Submit(Pid, options: new JobOptions { Retries = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobServer(new JobServerOptions { Ncpus = 0, MaxJobsPerWorker = -1 }));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
