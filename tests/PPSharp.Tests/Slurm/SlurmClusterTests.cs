using System.Collections.Concurrent;
using PPSharp.Slurm;

namespace PPSharp.Tests.Slurm;

/// <summary>
/// A <see cref="SlurmCluster"/> against a real Slurm (the single-host cluster <c>.ci/run</c> starts): nodes start as
/// batch jobs and are found through their address files, jobs run on them, the cluster scales down and up, a job
/// cancelled by hand loses no work, and disposing leaves no Slurm job behind. Skipped, saying why, where no Slurm answers.
/// </summary>
/// <remarks>
/// The nodes listen on 127.0.0.1 (tests use loopback only); jobs wait at a <see cref="JobGate"/> on loopback too, so
/// the test knows which node runs what, with no sleeps.
/// </remarks>
public sealed class SlurmClusterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-slurm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The job: waits at the gate, then returns its number and the id of the Slurm job it ran in.</summary>
    public static (int Number, string? SlurmJob) HoldAtGate(int number, int gatePort)
    {
        JobGate.ArriveAndWait(gatePort);
        return (number, Environment.GetEnvironmentVariable("SLURM_JOB_ID"));
    }

    public static string SlurmJobOfWorker(int number) => $"{number}:{Environment.GetEnvironmentVariable("SLURM_JOB_ID")}";

    [SkippableFact]
    public async Task Cluster_RunsJobsOnEveryNode_ScalesDownAndUp_AndLeavesNoSlurmJobWhenDisposed()
    {
        SlurmAvailability.SkipUnlessAvailable();
        string jobName, directory;
        await using (SlurmCluster cluster = await StartClusterAsync(jobs: 2))
        {
            (jobName, directory) = (cluster.JobName, cluster.Directory);
            Assert.Contains("#SBATCH --cpus-per-task=1", cluster.JobScript);
            await using var server = new JobServer(0, ppservers: cluster.PpServers, secret: cluster.Secret);
            await WaitForActiveNodesAsync(server, 2);
            Assert.Equal(2, (await cluster.GetJobIdsAsync()).Count);

            // Every node is used: with one worker each and every job held at the gate, two jobs run at once, one per node.
            using (var gate = new JobGate())
            {
                var held = Enumerable.Range(0, 6).Select(i => server.Submit(HoldAtGate, i, gate.Port)).ToList();
                await gate.NextArrivalAsync();
                await gate.NextArrivalAsync();
                gate.Open();
                var results = await held.AllWithin();
                Assert.Equal(Enumerable.Range(0, 6), results.Select(r => r.Number));
                Assert.Equal(2, results.Select(r => r.SlurmJob).Distinct().Count());
                Assert.Equal(cluster.GetNodes().Keys.Order(), results.Select(r => r.SlurmJob!).Distinct().Order());
            }

            var output = new StringWriter();
            server.PrintStats(output);
            foreach (string address in cluster.GetNodes().Values)
            {
                Assert.Contains($"| {address}", output.ToString());
            }

            // The secret is on no command line: not in any process's arguments, not in what squeue shows.
            Assert.DoesNotContain(cluster.Secret, AllCommandLines());
            Assert.DoesNotContain(cluster.Secret, await RunAsync("squeue", "--noheader", "--name", cluster.JobName, "--format", "%all"));

            await cluster.ScaleAsync(1);
            Assert.Equal(1, cluster.Jobs);
            await WaitForActiveNodesAsync(server, 1);
            string remaining = Assert.Single(await cluster.GetJobIdsAsync());
            Assert.Equal($"6:{remaining}", await server.Submit(SlurmJobOfWorker, 6).Within());

            await cluster.ScaleAsync(2);
            await WaitForActiveNodesAsync(server, 2);
            Assert.Equal(2, (await cluster.GetJobIdsAsync()).Count);
        }

        // Disposed: Slurm lists none of the cluster's jobs, and its directory is gone.
        Assert.Equal(string.Empty, (await RunAsync("squeue", "--noheader", "--name", jobName)).Trim());
        Assert.False(Directory.Exists(directory));
    }

    [SkippableFact]
    public async Task JobCancelledByHandMidRun_LosesNoJob_TheOtherNodeRunsItsWork()
    {
        SlurmAvailability.SkipUnlessAvailable();
        await using SlurmCluster cluster = await StartClusterAsync(jobs: 2);
        await using var server = new JobServer(0, ppservers: cluster.PpServers, secret: cluster.Secret);
        await WaitForActiveNodesAsync(server, 2);

        using var gate = new JobGate();
        var callbacks = new ConcurrentQueue<int>();
        var jobs = Enumerable.Range(0, 8)
            .Select(i => server.Submit(HoldAtGate, i, gate.Port, ((int Number, string? SlurmJob) r) => callbacks.Enqueue(r.Number)))
            .ToList();

        // Both nodes are mid-job; cancel one node's Slurm job by hand, as a user (or the time limit) would.
        await gate.NextArrivalAsync();
        await gate.NextArrivalAsync();
        string[] ids = [.. cluster.GetNodes().Keys.Order()];
        Assert.Equal(2, ids.Length);
        string cancelled = ids[0];
        await RunAsync("scancel", cancelled);
        await WaitForActiveNodesAsync(server, 1);

        gate.Open();
        var results = await jobs.AllWithin();
        await server.WaitAsync().WaitAsync(Bounds.Hang);

        Assert.Equal(Enumerable.Range(0, 8), results.Select(r => r.Number));
        Assert.Equal(Enumerable.Range(0, 8), callbacks.Order()); // each result delivered once
        Assert.All(results, r => Assert.Equal(ids[1], r.SlurmJob)); // the cancelled node's held job ran again on the other
        Assert.Equal([ids[1]], await cluster.GetJobIdsAsync());
    }

    private async Task<SlurmCluster> StartClusterAsync(int jobs)
    {
        var options = new SlurmClusterOptions
        {
            Jobs = jobs,
            CpusPerJob = 1,
            TimeLimit = TimeSpan.FromMinutes(10), // a bound: a cluster a failed test leaves behind ends by itself
            WorkDirectory = _folder,
            Interface = "127.0.0.1",
        };
        options.JobEnvironment["XDG_CACHE_HOME"] = Path.Combine(_folder, "cache");
        return await SlurmCluster.StartAsync(options).WaitAsync(Bounds.Hang);
    }

    private static async Task WaitForActiveNodesAsync(JobServer server, int count)
    {
        using var timeout = new CancellationTokenSource(Bounds.Heavy);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (server.GetActiveNodes().Count(n => n.Key != "local") != count)
        {
            Assert.True(await timer.WaitForNextTickAsync(timeout.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully),
                $"the job server did not reach {count} nodes; it has: {string.Join(", ", server.GetActiveNodes().Keys)}");
        }
    }

    private static string AllCommandLines()
    {
        var text = new System.Text.StringBuilder();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                text.Append(File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ')).Append('\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended meanwhile
            }
        }

        return text.ToString();
    }

    private static async Task<string> RunAsync(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Bounds.Hang);
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)} failed: {await error}");
        return await output;
    }
}
