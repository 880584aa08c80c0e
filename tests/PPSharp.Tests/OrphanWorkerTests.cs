using System.Reflection;

namespace PPSharp.Tests;

/// <summary>
/// Behaviour 12, second half: workers exit by themselves when the process that started them dies, even by
/// kill -9. The parent here is a separate process (PPSharp.TestParent) that the test starts and kills by pid.
/// </summary>
public sealed class OrphanWorkerTests
{
    internal static string TestParentDll()
    {
        string? recorded = typeof(OrphanWorkerTests).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "PPSharp.TestParent.Path")?.Value;
        if (!string.IsNullOrEmpty(recorded) && File.Exists(recorded))
        {
            return recorded;
        }

        // Fallback: the same output layout as this test assembly, with the project name swapped.
        string guess = Path.Combine(AppContext.BaseDirectory.Replace("PPSharp.Tests", "PPSharp.TestParent", StringComparison.Ordinal), "PPSharp.TestParent.dll");
        Assert.True(File.Exists(guess), $"PPSharp.TestParent.dll not found (recorded: '{recorded}', guessed: '{guess}'); build tests/PPSharp.TestParent.");
        return guess;
    }

    private static async Task KillParentAndExpectWorkersToExitAsync(string mode, int ncpus)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(TestParentDll());
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(ncpus.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using Process parent = Process.Start(start) ?? throw new InvalidOperationException("could not start the test parent");
        var workerPids = new List<int>();
        try
        {
            int parentPid = -1;
            while (true)
            {
                string? line = await parent.StandardOutput.ReadLineAsync().WaitAsync(Bounds.Heavy);
                Assert.True(line is not null, "test parent exited before printing READY");
                if (line.StartsWith("PARENT ", StringComparison.Ordinal))
                {
                    parentPid = int.Parse(line["PARENT ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("WORKER ", StringComparison.Ordinal))
                {
                    workerPids.Add(int.Parse(line["WORKER ".Length..], System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (line == "READY")
                {
                    break;
                }
            }

            Assert.Equal(parent.Id, parentPid);
            Assert.Equal(ncpus, workerPids.Distinct().Count());
            Assert.All(workerPids, pid => Assert.True(ProcessProbe.IsAlive(pid), $"worker {pid} not running"));

            parent.Kill(entireProcessTree: false); // SIGKILL on Unix: the parent gets no chance to clean up.
            await parent.WaitForExitAsync().WaitAsync(Bounds.Hang);

            IReadOnlyList<int> alive = await ProcessProbe.WaitForAllToExitAsync(workerPids, Bounds.Hang);
            Assert.True(alive.Count == 0, $"workers still alive after their parent was killed: {string.Join(", ", alive)}");
        }
        finally
        {
            if (!parent.HasExited)
            {
                parent.Kill(entireProcessTree: true);
            }

            workerPids.ForEach(ProcessProbe.KillIfAlive);
        }
    }

    [Fact]
    public async Task Workers_Exit_WhenParentIsKilledWithSigkillWhileWorkersAreIdle()
    {
        await KillParentAndExpectWorkersToExitAsync("idle", 2);
    }

    [Fact]
    public async Task Workers_Exit_WhenParentIsKilledWithSigkillWhileWorkersRunJobs()
    {
        await KillParentAndExpectWorkersToExitAsync("busy", 2);
    }
}
