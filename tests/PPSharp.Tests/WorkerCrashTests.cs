using System.Runtime.CompilerServices;

namespace PPSharp.Tests;

/// <summary>Behaviour 5: a worker that dies mid-job fails that job with WorkerCrashedException, promptly; the server goes on.</summary>
public sealed class WorkerCrashTests
{
    public static int ExitWithCode3()
    {
        Environment.Exit(3);
        return 0;
    }

    public static int FailFast()
    {
        Environment.FailFast("PPSharp test: fail fast");
        return 0;
    }

    public static int KillSelf()
    {
        Process.GetCurrentProcess().Kill();
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Recurse(int depth) => Recurse(depth + 1) + 1;

    public static int OverflowStack() => Recurse(0);

    /// <summary>Waits at the gate, then exits with code 3.</summary>
    public static int ArriveThenExit(int port)
    {
        JobGate.ArriveAndWait(port);
        Environment.Exit(3);
        return 0;
    }

    private static async Task AssertServerStillWorksAsync(JobServer server)
    {
        var after = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();
        Assert.Equal(new[] { 0, 1, 4, 9, 16 }, await after.AllWithin());
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedExceptionNamingExitCode_WhenJobCallsEnvironmentExit()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(ExitWithCode3);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());
        Assert.Matches(@"(?i)exit(ed)?( with)?( code)?\D{0,5}3\b", error.Message);
        Assert.Equal("local", error.Node);
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedException_WhenJobCallsEnvironmentFailFast()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(FailFast);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());
        // FailFast aborts the process: SIGABRT (signal 6), which a shell reports as exit code 134.
        Assert.Matches(@"(?i)SIGABRT|signal\D{0,5}6\b|\b134\b", error.Message);
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedExceptionNamingSignal_WhenWorkerIsKilledWithSigkill()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(KillSelf);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());
        Assert.Matches(@"(?i)SIGKILL|signal\D{0,5}9\b|\b137\b", error.Message);
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedException_WhenJobOverflowsTheStack()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(OverflowStack);

        // Jobs run on a 1 GiB stack (deep values travel), so the overflow first touches a gigabyte: slow on a loaded machine.
        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => job.AsTask().WaitAsync(Bounds.Heavy));
        Assert.Matches(@"(?i)SIG[A-Z]+|signal\D{0,5}\d+|exit(ed)?( with)?( code)?\D{0,5}\d+", error.Message);
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task Result_ThrowsWorkerCrashedException_WhenWorkerExits()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ExitWithCode3);
        await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());

        Exception error = Assert.ThrowsAny<JobFailedException>(() => job.Result);

        Assert.IsType<WorkerCrashedException>(error);
    }

    [Fact]
    public async Task Submit_ReplacesWorker_AfterACrash()
    {
        using var server = new JobServer(1);
        int before = await server.Submit(Functions.Pid).Within();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(ExitWithCode3).Within());
        int after = await server.Submit(Functions.Pid).Within();

        Assert.NotEqual(before, after);
        Assert.True(await ProcessProbe.WaitForExitAsync(before));
        Assert.Equal(1, server.GetActiveNodes()["local"]);
    }

    [Fact]
    public async Task QueuedJobs_Complete_WhenWorkerCrashesWhileTheyWait()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> crashing = server.Submit(ArriveThenExit, gate.Port);
        await gate.NextArrivalAsync();

        // The only worker is busy with the job that is about to crash: these wait in the queue
        // (or in flight on the crashing worker's channel).
        var queued = Enumerable.Range(1, 8).Select(i => server.Submit(Functions.Square, i)).ToList();
        gate.Open();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => crashing.Within());
        Assert.Equal(new[] { 1, 4, 9, 16, 25, 36, 49, 64 }, await queued.AllWithin());
    }

    [Fact]
    public async Task LargeJobsHeldAheadOnACrashingWorker_RunAgainWithTheirOwnArguments_WhileLaterJobsReuseBuffers()
    {
        // A large body is kept by its job to be sent again, even once written to the crashing worker's channel; the
        // jobs submitted after take reused arrays for theirs. A body given back before its job ended would be sent
        // again holding another job's bytes.
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> crashing = server.Submit(ArriveThenExit, gate.Port);
        await gate.NextArrivalAsync();

        byte[][] data = Functions.RandomArrays(2000, Enumerable.Range(0, 8).Select(i => (2 << 20) + ((7 - i) * 4099))); // each fits in the arrays before it
        Job<string>[] jobs = [.. data.Select(d => server.Submit(Functions.Digest, d))];
        gate.Open();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => crashing.Within());
        Assert.Equal(data.Select(Functions.Digest), await jobs.AllWithin());
    }

    [Fact]
    public async Task QueuedJobs_Complete_WhenSubmittedRightBehindACrashingJob()
    {
        using var server = new JobServer(1);

        Job<int> crashing = server.Submit(KillSelf);
        var queued = Enumerable.Range(1, 10).Select(i => server.Submit(Functions.Square, i)).ToList();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => crashing.Within());
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * i).ToArray(), await queued.AllWithin());
    }

    [Fact]
    public async Task OtherWorkersJobs_Complete_WhenOneOfTwoWorkersCrashes()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        Job<int> blocked = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int blockedPid = await gate.NextArrivalAsync();

        Job<int> crashing = server.Submit(ExitWithCode3);
        await Assert.ThrowsAsync<WorkerCrashedException>(() => crashing.Within());
        gate.Open();

        Assert.Equal(blockedPid, await blocked.Within());
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task Submit_KeepsWorking_AfterSeveralCrashesInARow()
    {
        using var server = new JobServer(1);

        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(ExitWithCode3).Within());
        }

        await AssertServerStillWorksAsync(server);
    }

    public static int ExitWithCode0()
    {
        Environment.Exit(0);
        return 0;
    }

    /// <summary>Starts a long-lived child that inherits the worker's stdout/stderr, records its pid, then exits the worker.</summary>
    public static int SpawnInheritingChildThenExit(string pidFile)
    {
        int child = SpawnInheritingChild(pidFile);
        Environment.Exit(3);
        return child;
    }

    /// <summary>Starts a long-lived child that inherits the worker's stdout/stderr, records its pid, and returns it.</summary>
    public static int SpawnInheritingChild(string pidFile)
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        File.WriteAllText(pidFile, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return child.Id;
    }

    private static void KillRecordedChild(string pidFile)
    {
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out int pid))
        {
            ProcessProbe.KillIfAlive(pid);
        }

        File.Delete(pidFile);
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedExceptionNamingExitCode_WhenJobExitsWithCodeZero()
    {
        using var server = new JobServer(1);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(ExitWithCode0).Within());

        Assert.Matches(@"(?i)exit(ed)?( with)?( code)?\D{0,5}0\b", error.Message);
        await AssertServerStillWorksAsync(server);
    }

    [Fact]
    public async Task ExitCode_IsReported_WhenJobCallsEnvironmentExit()
    {
        using var server = new JobServer(1);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(ExitWithCode3).Within());

        Assert.Equal(3, error.ExitCode);
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedException_WhenTestKillsWorkerMidJob()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> job = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int pid = await gate.NextArrivalAsync();
        var queued = Enumerable.Range(0, 3).Select(i => server.Submit(Functions.Square, i)).ToList();

        using (var worker = Process.GetProcessById(pid))
        {
            worker.Kill();
        }

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());
        Assert.Matches(@"(?i)SIGKILL|signal\D{0,5}9\b|\b137\b", error.Message);
        Assert.Equal(new[] { 0, 1, 4 }, await queued.AllWithin());
    }

    [Fact]
    public async Task Submit_RunsJobs_WhenIdleWorkerWasKilledFromOutside()
    {
        using var server = new JobServer(1);
        int pid = await server.Submit(Functions.Pid).Within();

        using (var worker = Process.GetProcessById(pid))
        {
            worker.Kill();
            await worker.WaitForExitAsync().WaitAsync(Bounds.Hang);
        }

        var jobs = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();
        Assert.Equal(new[] { 0, 1, 4, 9, 16 }, await jobs.AllWithin());
        Assert.NotEqual(pid, await server.Submit(Functions.Pid).Within());
    }

    [Fact]
    public async Task Await_ThrowsWorkerCrashedExceptionPromptly_WhenCrashedWorkersChildStillHoldsItsOutput()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), $"ppsharp-child-{Guid.NewGuid():N}.pid");
        try
        {
            using var server = new JobServer(1);

            Job<int> job = server.Submit(SpawnInheritingChildThenExit, pidFile);

            // The child lives 300 s with the dead worker's stdout/stderr open; the crash must be reported long before.
            await Assert.ThrowsAsync<WorkerCrashedException>(() => job.Within());
            await AssertServerStillWorksAsync(server);
        }
        finally
        {
            KillRecordedChild(pidFile);
        }
    }

    [Fact]
    public async Task Dispose_ReturnsPromptly_WhenWorkersChildStillHoldsItsOutput()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), $"ppsharp-child-{Guid.NewGuid():N}.pid");
        try
        {
            using var server = new JobServer(1);
            int workerPid = await server.Submit(Functions.Pid).Within();
            await server.Submit(SpawnInheritingChild, pidFile).Within();

            await Bounds.RunWithin(server.Dispose);

            bool gone = await ProcessProbe.WaitForExitAsync(workerPid);
            ProcessProbe.KillIfAlive(workerPid);
            Assert.True(gone, $"worker {workerPid} still alive after Dispose");
        }
        finally
        {
            KillRecordedChild(pidFile);
        }
    }
}
