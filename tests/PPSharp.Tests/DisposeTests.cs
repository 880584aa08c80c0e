namespace PPSharp.Tests;

/// <summary>Behaviour 12: Dispose fails running and queued jobs at once, refuses new ones, and leaves no worker behind.</summary>
public sealed class DisposeTests
{
    [Fact]
    public async Task Dispose_FailsRunningAndQueuedJobsWithDestroyedServerException_Promptly()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int workerPid = await gate.NextArrivalAsync();
        var queued = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();

        await Bounds.RunWithin(server.Dispose);

        await Assert.ThrowsAnyAsync<DestroyedServerException>(() => running.Within());
        foreach (Job<int> job in queued)
        {
            await Assert.ThrowsAnyAsync<DestroyedServerException>(() => job.Within());
        }

        Assert.Throws<DestroyedServerException>(() => running.Result);
        bool gone = await ProcessProbe.WaitForExitAsync(workerPid);
        ProcessProbe.KillIfAlive(workerPid);
        Assert.True(gone, $"worker {workerPid} still alive after Dispose");
    }

    [Fact]
    public async Task Submit_ThrowsDestroyedServerException_AfterDispose()
    {
        using var server = new JobServer(1);
        Assert.Equal(4, await server.Submit(Functions.Square, 2).Within());

        server.Dispose();

        Assert.Throws<DestroyedServerException>(() => server.Submit(Functions.Square, 3));
        Assert.Throws<DestroyedServerException>(() => server.Submit(() => { }));
    }

    [Fact]
    public void Submit_ThrowsDestroyedServerException_AfterDestroy()
    {
        using var server = new JobServer(1);

        server.Destroy();

        Assert.Throws<DestroyedServerException>(() => server.Submit(Functions.Square, 3));
        server.Dispose();
    }

    [Fact]
    public async Task DisposeAsync_FailsPendingJobsAndRefusesNewOnes_WhenAwaited()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        await gate.NextArrivalAsync();
        Job<int> queued = server.Submit(Functions.Square, 5);

        await server.DisposeAsync().AsTask().WaitAsync(Bounds.Hang);

        await Assert.ThrowsAnyAsync<DestroyedServerException>(() => running.Within());
        await Assert.ThrowsAnyAsync<DestroyedServerException>(() => queued.Within());
        Assert.Throws<DestroyedServerException>(() => server.Submit(Functions.Square, 3));
    }

    [Fact]
    public async Task Dispose_StopsAllWorkerProcesses_WhenWorkersAreIdle()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        var jobs = Enumerable.Range(0, 2).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port)).ToList();
        int[] pids = [await gate.NextArrivalAsync(), await gate.NextArrivalAsync()];
        gate.Open();
        await jobs.AllWithin();
        Assert.All(pids, pid => Assert.True(ProcessProbe.IsAlive(pid)));

        await Bounds.RunWithin(server.Dispose);

        IReadOnlyList<int> alive = await ProcessProbe.WaitForAllToExitAsync(pids);
        alive.ToList().ForEach(ProcessProbe.KillIfAlive);
        Assert.Empty(alive);
    }

    [Fact]
    public async Task Dispose_IsIdempotent_WhenCalledTwice()
    {
        using var server = new JobServer(1);
        Assert.Equal(1, await server.Submit(Functions.Square, 1).Within());

        server.Dispose();
        Exception? second = Record.Exception(server.Dispose);
        Exception? destroy = Record.Exception(server.Destroy);

        Assert.Null(second);
        Assert.Null(destroy);
    }

    [Fact]
    public async Task Wait_ReturnsPromptly_WhenServerIsDisposedWhileJobsArePending()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        await gate.NextArrivalAsync();
        Task waiting = Task.Run(() =>
        {
            try
            {
                server.Wait();
            }
            catch (DestroyedServerException)
            {
                // Acceptable: the waited jobs were destroyed.
            }
        });

        server.Dispose();

        await waiting.WaitAsync(Bounds.Hang);
        await Assert.ThrowsAnyAsync<DestroyedServerException>(() => running.Within());
    }

    [Fact]
    public async Task Dispose_FailsJobsPromptly_WhenRestartIsTrue()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1, restart: true);
        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int pid = await gate.NextArrivalAsync();

        await Bounds.RunWithin(server.Dispose);

        await Assert.ThrowsAnyAsync<DestroyedServerException>(() => running.Within());
        bool gone = await ProcessProbe.WaitForExitAsync(pid);
        ProcessProbe.KillIfAlive(pid);
        Assert.True(gone, $"worker {pid} still alive after Dispose");
    }

    [Fact]
    public async Task Dispose_NeitherHangsNorLosesJobs_WhenCalledWhileThreadsAreSubmitting()
    {
        using var server = new JobServer(2);
        var jobs = new System.Collections.Concurrent.ConcurrentBag<Job<int>>();
        using var started = new CountdownEvent(4);
        var submitters = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            started.Signal();
            for (int i = 0; i < 500; i++)
            {
                try
                {
                    jobs.Add(server.Submit(Functions.Square, i));
                }
                catch (DestroyedServerException)
                {
                    return;
                }
            }
        })).ToArray();
        await Bounds.RunWithin(() => started.Wait());

        await Bounds.RunWithin(server.Dispose);
        await Task.WhenAll(submitters).WaitAsync(Bounds.Hang);

        // Every accepted job ends: with its result, or with DestroyedServerException. None hangs.
        foreach (Job<int> job in jobs)
        {
            Exception? error = await Record.ExceptionAsync(() => job.Within());
            Assert.True(error is null or DestroyedServerException, $"job {job.Id}: {error}");
        }
    }

    [Fact]
    public async Task WaitAsync_Completes_WhenServerIsDisposedWhileJobsArePending()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        _ = server.Submit(JobGate.ArriveAndWait, gate.Port, group: "g");
        await gate.NextArrivalAsync();
        Task waiting = server.WaitAsync("g");

        await server.DisposeAsync();

        Exception? error = await Record.ExceptionAsync(() => waiting.WaitAsync(Bounds.Hang));
        Assert.True(error is null or DestroyedServerException, error?.ToString());
    }
}
