using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PPSharp.Tests.Examples;

/// <summary>
/// Runs each ported ppft example the way the README says (<c>dotnet run examples/NAME.cs 2</c>) and checks that it
/// prints ppft's numbers and the statistics table. These are end-to-end: a file-based program, built by the SDK, with
/// its own worker processes.
/// </summary>
public sealed partial class ExamplesTests
{
    public static TheoryData<string, string[]> Examples => new()
    {
        { "sum_primes.cs", ["Starting pp with 2 workers", "Sum of primes below 100 is 1060", "Sum of primes below 100000 is 454396537", "Sum of primes below 100700 is 460217613"] },
        { "sum_primes_template.cs", ["Sum of primes below 100 is 1060", "Sum of primes below 100700 is 460217613"] },
        { "sum_primes_source.cs", ["Sum of primes below 100 is 1060", "Sum of primes below 100700 is 460217613"] },
        { "callback.cs", ["Starting pp with 2 workers"] },
        { "dynamic_ncpus.cs", ["Starting pp with 1 workers", "Starting pp with 16 workers"] },
        { "quicksort.cs", ["first 30 numbers in increasing order: ["] },
        { "reverse_md5.cs", ["Reverse md5 for 48ae4d2d384dcc470e471f4169daa96a is 1829182"] },
        { "map.cs", ["map:   [1, 64, 2187, 65536]", "same results from map, imap, uimap and amap: True", "item value 3", "item 4 ran past its time limit", "map cancelled after 3 results"] },
        { "auto_diff.cs", ["t_log(1.000000) = 0.000000, t_log'(1.000000) = 1.000000", "t_log(1.968750) = 0.677399, t_log'(1.968750) = 0.507937"] },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Example_PrintsPpftNumbersAndStatistics(string file, string[] expectedLines)
    {
        string output = await RunExampleAsync(file);

        foreach (string line in expectedLines)
        {
            Assert.Contains(line, output);
        }

        Assert.Contains("Job execution statistics:", output);
        Assert.Matches(@"\|\s+local", output);
        foreach (Match partial in PartialSum().Matches(output))
        {
            // callback.cs and dynamic_ncpus.cs: the partial sum of the alternating harmonic series is ln 2 within 1e-7.
            double sum = double.Parse(partial.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.InRange(Math.Abs(sum - Math.Log(2)), 0, 1e-7);
        }
    }

    [GeneratedRegex(@"Partial sum is ([0-9.eE+-]+)")]
    private static partial Regex PartialSum();

    private static async Task<string> RunExampleAsync(string file)
    {
        string root = RepositoryRoot();
        var info = new ProcessStartInfo("dotnet", ["run", Path.Combine("examples", file), "2"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // The test host's MSBuild settings must not leak into the nested build of the example.
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBUILD", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string output = await stdout;
        Assert.True(process.ExitCode == 0, $"dotnet run examples/{file} exited with {process.ExitCode}:\n{output}\n{await stderr}");
        return output;
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "PPSharp.slnx")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("The repository root (with PPSharp.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
