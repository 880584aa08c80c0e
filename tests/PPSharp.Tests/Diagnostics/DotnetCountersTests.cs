using System.Globalization;

namespace PPSharp.Tests.Diagnostics;

/// <summary>
/// The <c>PPSharp</c> meter as a user watches it: the real <c>dotnet-counters</c> tool, attached from outside to a
/// program that keeps a job server busy (PPSharp.TestParent's "counters" mode), collects for three seconds.
/// Skipped, saying so, where the tool is not installed (<c>.ci/run</c> installs it).
/// </summary>
public sealed class DotnetCountersTests
{
    /// <summary>How long the tool collects: three of its one-second intervals.</summary>
    private const string Duration = "00:00:03";

    /// <summary>The tool: <c>dotnet-counters</c> on the PATH, else where <c>dotnet tool install --global</c> puts it.</summary>
    private static string? Tool()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        IEnumerable<string> folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(home, ".dotnet", "tools"));
        return folders.Select(f => Path.Combine(f, "dotnet-counters")).FirstOrDefault(File.Exists);
    }

    [SkippableFact]
    public async Task DotnetCountersCollect_SeesThePPSharpMetersInstruments_WithPlausibleValues()
    {
        string? tool = Tool();
        Skip.If(tool is null, "dotnet-counters is not installed (dotnet tool install --global dotnet-counters; .ci/run does it): this check of the meter from outside is skipped.");
        string output = Path.Combine(Directory.CreateTempSubdirectory("ppsharp-counters-").FullName, "counters.csv");

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(OrphanWorkerTests.TestParentDll());
        start.ArgumentList.Add("counters");
        start.ArgumentList.Add("2");
        using Process busy = Process.Start(start) ?? throw new InvalidOperationException("could not start the test parent");
        try
        {
            Assert.Equal($"PARENT {busy.Id}", await busy.StandardOutput.ReadLineAsync().WaitAsync(Bounds.Heavy));
            Assert.Equal("READY", await busy.StandardOutput.ReadLineAsync().WaitAsync(Bounds.Heavy)); // jobs are running

            var collect = new ProcessStartInfo(tool!, ["collect", "-p", busy.Id.ToString(CultureInfo.InvariantCulture), "--counters", "PPSharp", "--format", "csv", "-o", output, "--duration", Duration])
            {
                RedirectStandardInput = true, // it reads keys (q to quit) from a console; none here
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using Process counters = Process.Start(collect) ?? throw new InvalidOperationException("could not start dotnet-counters");
            Task<string> said = counters.StandardOutput.ReadToEndAsync();
            Task<string> complained = counters.StandardError.ReadToEndAsync();
            await counters.WaitForExitAsync().WaitAsync(Bounds.Hang);
            Assert.True(counters.ExitCode == 0, $"dotnet-counters exited with {counters.ExitCode}:\n{await said}\n{await complained}");

            // Timestamp,Provider,Counter Name,Counter Type,Mean/Increment; the name carries its unit and tags.
            var rows = File.ReadAllLines(output).Skip(1).Select(line =>
            {
                string[] f = line.Split(',');
                return (Provider: f[1], Name: string.Join(',', f[2..^2]), Type: f[^2], Value: double.Parse(f[^1], CultureInfo.InvariantCulture));
            }).ToList();
            Assert.All(rows, r => Assert.Equal("PPSharp", r.Provider));
            IEnumerable<double> Values(string instrument) => rows.Where(r => r.Name.StartsWith(instrument + " ", StringComparison.Ordinal)).Select(r => r.Value);
            string seen = string.Join("\n", rows.Select(r => r.Name).Distinct());

            Assert.True(Values("ppsharp.jobs.submitted").Any(v => v > 0), $"no job submitted in the rows:\n{seen}");
            Assert.True(Values("ppsharp.jobs.completed").Any(v => v > 0), $"no job completed in the rows:\n{seen}");
            Assert.Contains(rows, r => r.Name.StartsWith("ppsharp.jobs.completed ({job} / 1 sec)[ppsharp.node=local]", StringComparison.Ordinal) && r.Type == "Rate");
            Assert.NotEmpty(Values("ppsharp.job.duration"));
            Assert.All(Values("ppsharp.job.duration"), v => Assert.InRange(v, 0, 60)); // percentiles of 2-4 ms jobs, in seconds
            Assert.NotEmpty(Values("ppsharp.job.queue.duration"));
            Assert.All(Values("ppsharp.queue.length"), v => Assert.InRange(v, 0, 16)); // a batch is 16 jobs
            Assert.NotEmpty(Values("ppsharp.queue.length"));
            Assert.All(Values("ppsharp.jobs.in_flight"), v => Assert.InRange(v, 0, 16));
            Assert.All(Values("ppsharp.workers"), v => Assert.InRange(v, 0, 2));
            Assert.Contains(rows, r => r.Name.Contains("ppsharp.worker.state=busy", StringComparison.Ordinal));
            Assert.All(Values("ppsharp.nodes.connected"), v => Assert.Equal(0, v));
            Assert.True(Values("ppsharp.network.io").Any(v => v > 0), $"no bytes in the rows:\n{seen}");

            busy.StandardInput.Close(); // the program stops submitting and says how many jobs it ran
            string? done = await busy.StandardOutput.ReadLineAsync().WaitAsync(Bounds.Hang);
            Assert.StartsWith("DONE ", done);
            await busy.WaitForExitAsync().WaitAsync(Bounds.Hang);
        }
        finally
        {
            if (!busy.HasExited)
            {
                busy.Kill(entireProcessTree: true);
            }

            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }
}
