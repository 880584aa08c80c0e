using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace PPSharp.Bench.Suite;

/// <summary>
/// A real <c>ppserver</c> on loopback, started as <c>dotnet ppserver.dll -p 0 -i 127.0.0.1 -w N -s SECRET</c> with a
/// fresh random secret and an assembly cache of its own (so every run uploads the code, as a new node would), and
/// killed by its process id, with its workers, when disposed.
/// </summary>
internal sealed partial class PpServer : IDisposable
{
    private readonly Process _process;
    private readonly string _cache;

    private PpServer(Process process, string cache, string endPoint, string secret)
    {
        _process = process;
        _cache = cache;
        EndPoint = endPoint;
        Secret = secret;
    }

    public string EndPoint { get; }

    public string Secret { get; }

    public int Pid => _process.Id;

    [GeneratedRegex(@"^ppserver listening on (?<endpoint>\S+:\d+) with (?<workers>\d+) workers$")]
    private static partial Regex ListeningLine();

    public static string DllPath()
    {
        string? recorded = typeof(PpServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "PPSharp.Server.Path")?.Value;
        if (string.IsNullOrEmpty(recorded) || !File.Exists(recorded))
        {
            throw new FileNotFoundException($"ppserver.dll not found (recorded: '{recorded}'); build src/PPSharp.Server.");
        }

        return recorded;
    }

    /// <summary>Starts a node with a fresh random secret, or with <paramref name="secret"/> (nodes a client shares).</summary>
    public static PpServer Start(int workers, string? secret = null, IEnumerable<string>? extraArguments = null)
    {
        secret ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        string cache = Directory.CreateTempSubdirectory("ppsharp-bench-cache-").FullName;
        var start = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])[DllPath(), "-p", "0", "-i", "127.0.0.1", "-w", workers.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s", secret, .. extraArguments ?? []])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("PPSHARP_SECRET");
        start.Environment["XDG_CACHE_HOME"] = cache;
        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start ppserver");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        try
        {
            Task<string?> line = Task.Run(() =>
            {
                while (process.StandardOutput.ReadLine() is { } text)
                {
                    if (ListeningLine().Match(text) is { Success: true } match)
                    {
                        return match.Groups["endpoint"].Value;
                    }
                }

                return null;
            });
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
            {
                lock (errors)
                {
                    throw new InvalidOperationException($"ppserver did not say it was listening. Its error output:\n{errors}");
                }
            }

            // Keep draining standard output (statistics on SIGUSR1, nothing else) so the node never blocks on it.
            _ = process.StandardOutput.ReadToEndAsync(); // asynchronously: a blocked pool thread per node would starve the client
            return new PpServer(process, cache, line.Result, secret);
        }
        catch
        {
            ChildProcess.KillIfRunning(process);
            process.Dispose();
            Directory.Delete(cache, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        ChildProcess.KillIfRunning(_process);
        _process.Dispose();
        try
        {
            Directory.Delete(_cache, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
