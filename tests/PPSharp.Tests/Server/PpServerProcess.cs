using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace PPSharp.Tests.Server;

/// <summary>
/// A real <c>ppserver</c> process started by a test (<c>dotnet ppserver.dll ...</c>), with its standard output
/// read line by line and its standard error collected. Disposing it kills it, with its worker processes, by pid,
/// if it is still running: every test stops what it started.
/// </summary>
public sealed partial class PpServerProcess : IDisposable
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGTERM = 15;

    public const int SIGSTOP = 19;

    public const int SIGCONT = 18;

    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly Channel<string> _stderrLines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stdoutText = new();
    private readonly StringBuilder _stderrText = new();
    private readonly Task _readers;

    private PpServerProcess(Process process)
    {
        _process = process;
        Pid = process.Id;
        _readers = Task.WhenAll(
            PumpAsync(process.StandardOutput, _stdout, _stdoutText),
            PumpAsync(process.StandardError, _stderrLines, _stderrText));
    }

    public int Pid { get; }

    /// <summary>Everything the process wrote to standard output so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdoutText)
            {
                return _stdoutText.ToString();
            }
        }
    }

    /// <summary>Everything the process wrote to standard error so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderrText)
            {
                return _stderrText.ToString();
            }
        }
    }

    [GeneratedRegex(@"^ppserver listening on 127\.0\.0\.1:(?<port>\d+) with (?<workers>\d+) workers$")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^ppserver listening on (?<host>\S+):(?<port>\d+) with (?<workers>\d+) workers$")]
    private static partial Regex ListeningLineAnyHost();

    /// <summary>The ppserver.dll the test project built (recorded in this assembly's metadata).</summary>
    public static string DllPath()
    {
        string? recorded = typeof(PpServerProcess).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "PPSharp.Server.Path")?.Value;
        Assert.True(!string.IsNullOrEmpty(recorded) && File.Exists(recorded), $"ppserver.dll not found (recorded: '{recorded}'); build src/PPSharp.Server.");
        return recorded;
    }

    /// <summary>
    /// Starts <c>ppserver</c> with these arguments. PPSHARP_SECRET is removed from its environment unless
    /// <paramref name="environment"/> sets it, so the machine's environment cannot change a test's outcome.
    /// <paramref name="launcher"/>, if given, is a command that execs the rest of its command line in place (such as
    /// <c>ip netns exec NAME</c>), so the process started is still ppserver itself, with the same pid.
    /// </summary>
    public static PpServerProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? launcher = null)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : dotnet)
        {
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (string arg in launcher.Skip(1))
            {
                start.ArgumentList.Add(arg);
            }

            start.ArgumentList.Add(dotnet);
        }

        start.ArgumentList.Add(DllPath());
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("PPSHARP_SECRET");
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new PpServerProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start ppserver"));
    }

    /// <summary>Runs <c>ppserver</c> to its exit (for runs that must fail at once) and returns what it did.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using PpServerProcess server = Start(args);
        int exitCode = await server.WaitForExitAsync();
        return (exitCode, server.StandardOutput, server.StandardError);
    }

    /// <summary>Reads standard output up to the "listening on" line and returns the port it names.</summary>
    public async Task<int> WaitForListeningAsync()
    {
        string line = await ReadLineAsync(_stdout, l => ListeningLine().IsMatch(l), "the 'ppserver listening on' line");
        return int.Parse(ListeningLine().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Reads standard output up to the "listening on" line for <paramref name="host"/> and returns the port it names.</summary>
    public async Task<int> WaitForListeningOnAsync(string host)
    {
        string line = await ReadLineAsync(_stdout, l => ListeningLineAnyHost().Match(l) is { Success: true } m && m.Groups["host"].Value == host, $"the 'ppserver listening on {host}:...' line");
        return int.Parse(ListeningLineAnyHost().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Reads standard output up to a line that matches, and returns it.</summary>
    public Task<string> WaitForOutputLineAsync(Func<string, bool> match, string what) => ReadLineAsync(_stdout, match, what);

    /// <summary>Reads standard error up to a line that matches, and returns it.</summary>
    public Task<string> WaitForErrorLineAsync(Func<string, bool> match, string what) => ReadLineAsync(_stderrLines, match, what);

    /// <summary>Waits (bounded) for the process to exit and for its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Bounds.Hang);
        await _readers.WaitAsync(Bounds.Hang);
        return _process.ExitCode;
    }

    /// <summary>Sends a signal to the process, by pid.</summary>
    public void Signal(int signal)
    {
        Assert.True(kill(Pid, signal) == 0, $"kill({Pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(Bounds.Hang);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task<string> ReadLineAsync(Channel<string> lines, Func<string, bool> match, string what)
    {
        using var bound = new CancellationTokenSource(Bounds.Hang);
        try
        {
            await foreach (string line in lines.Reader.ReadAllAsync(bound.Token))
            {
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"ppserver did not write {what} within {Bounds.Hang}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        await _process.WaitForExitAsync().WaitAsync(Bounds.Hang);
        Assert.Fail($"ppserver exited with {_process.ExitCode} before writing {what}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        return string.Empty;
    }

    private static async Task PumpAsync(StreamReader reader, Channel<string> lines, StringBuilder text)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (text)
            {
                text.AppendLine(line);
            }

            lines.Writer.TryWrite(line);
        }

        lines.Writer.TryComplete();
    }

    /// <summary>Sends a signal to any process of the test's, by pid.</summary>
    public static void Signal(int pid, int signal) =>
        Assert.True(kill(pid, signal) == 0, $"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
