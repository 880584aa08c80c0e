namespace PPSharp.Tests;

/// <summary>
/// Jobs queued ahead on busy workers (so a worker never waits for the client between jobs): a job held ahead that has
/// not started is taken back when another worker frees up first, and no job held ahead runs twice or is lost when its
/// worker dies. Observed through the jobs' own side effects and pids, never through timing.
/// </summary>
public sealed class DispatchTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-dispatch-").FullName;

    public static int Pid() => Environment.ProcessId;

    public static int WaitAtGate(int port) => JobGate.ArriveAndWait(port);

    /// <summary>Appends the job's number to a file (one line per run), then returns it.</summary>
    public static int Record(string path, int number)
    {
        File.AppendAllText(path, number + Environment.NewLine);
        return number;
    }

    public static int ArriveThenExit(int port)
    {
        JobGate.ArriveAndWait(port);
        Environment.Exit(3);
        return 0;
    }

    [Fact]
    public async Task JobHeldAheadOnABusyWorker_IsTakenBack_WhenAnotherWorkerFreesUp()
    {
        using var first = new JobGate();
        using var second = new JobGate();
        using var server = new JobServer(2);
        Job<int> blockedOne = server.Submit(WaitAtGate, first.Port);
        Job<int> blockedTwo = server.Submit(WaitAtGate, second.Port);
        int firstPid = await first.NextArrivalAsync();
        int secondPid = await second.NextArrivalAsync();
        Assert.NotEqual(firstPid, secondPid);

        // Both workers are busy: one of these is held ahead on each of them.
        Job<int> a = server.Submit(Pid);
        Job<int> b = server.Submit(Pid);

        // Free the second worker only. It runs what it held, then takes back the job held behind the first worker's
        // blocked job: both finish there, while the first worker is still blocked.
        second.Open();
        Assert.Equal(secondPid, await blockedTwo.Within());
        Assert.Equal(secondPid, await a.Within());
        Assert.Equal(secondPid, await b.Within());
        Assert.False(blockedOne.IsCompleted);

        first.Open();
        Assert.Equal(firstPid, await blockedOne.Within());
    }

    [Fact]
    public async Task WorkerDyingWithJobsHeldAhead_RunsEachOfThemExactlyOnceElsewhere()
    {
        string log = Path.Combine(_folder, "runs.txt");
        using var gate = new JobGate();
        using var server = new JobServer(1);

        // Prove Record short, so that many of its jobs are held ahead on the worker at once.
        await Enumerable.Range(-20, 20).Select(i => server.Submit(Record, Path.Combine(_folder, "warm.txt"), i)).AllWithin();

        Job<int> crash = server.Submit(ArriveThenExit, gate.Port);
        await gate.NextArrivalAsync();
        var jobs = Enumerable.Range(0, 30).Select(i => server.Submit(Record, log, i)).ToList();
        Assert.Contains(jobs, j => j.State == JobState.Sent); // some are held ahead on the doomed worker
        gate.Open();

        await Assert.ThrowsAsync<WorkerCrashedException>(() => crash.Within());
        Assert.Equal(Enumerable.Range(0, 30), await jobs.AllWithin());
        string[] runs = File.ReadAllLines(log);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), runs.Order());
    }

    [Fact]
    public async Task AFrozenWorker_IsEndedPastTheHeartbeatTimeout_AndTheJobsHeldAheadRunElsewhere()
    {
        using var gate = new JobGate();
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, HeartbeatTimeout = TimeSpan.FromSeconds(1) });
        Job<int> frozen = server.Submit(WaitAtGate, gate.Port);
        int pid = await gate.NextArrivalAsync();
        Job<int> heldAhead = server.Submit(Pid);
        Assert.Equal(JobState.Sent, heldAhead.State);

        PPSharp.Tests.Server.PpServerProcess.Signal(pid, PPSharp.Tests.Server.PpServerProcess.SIGSTOP);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => frozen.Within());
        Assert.Contains("stopped answering", error.Message);
        int other = await heldAhead.Within();
        Assert.NotEqual(pid, other);
    }

    [Fact]
    public async Task UnevenJobs_AllFinish_OnBothWorkers()
    {
        using var server = new JobServer(2);
        using (var gate = new JobGate())
        {
            // Both workers up first: otherwise the first to start could finish all forty before the second is ready.
            Job<int>[] warm = [server.Submit(WaitAtGate, gate.Port), server.Submit(WaitAtGate, gate.Port)];
            await gate.NextArrivalAsync();
            await gate.NextArrivalAsync();
            gate.Open();
            await warm.AllWithin();
        }

        var jobs = Enumerable.Range(0, 40).Select(i => server.Submit(SpinThenPid, i % 7)).ToList();
        int[] pids = await jobs.AllWithin();
        Assert.Equal(2, pids.Distinct().Count());
    }

    public static int SpinThenPid(int milliseconds)
    {
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < milliseconds)
        {
        }

        return Environment.ProcessId;
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
