using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A real <c>ppserver</c> node for the remote tests: started on 127.0.0.1 (port 0, or a port the test reserved),
/// with a secret, a worker count and its own assembly cache folder (<c>XDG_CACHE_HOME</c>), so no test touches
/// the user's cache. Disposing it kills the node and its workers, by pid.
/// </summary>
public sealed class TestNode : IDisposable
{
    /// <summary>Set in a node's environment (and so in its workers'), never in the test process: lets a job know it runs on a node.</summary>
    public const string OnNodeVariable = "PPSHARP_TEST_ON_NODE";

    private TestNode(PpServerProcess process, string host, int port)
    {
        Process = process;
        Host = host;
        Port = port;
    }

    public PpServerProcess Process { get; }

    /// <summary>The address the node listens on: 127.0.0.1 unless it was started elsewhere (in a network namespace).</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>The node's name as a client lists it, and as <c>Job.Node</c> and the statistics name it.</summary>
    public string Address => $"{Host}:{Port}";

    public int Pid => Process.Pid;

    /// <summary>Starts a node and waits for its "listening on" line.</summary>
    /// <param name="secret">The node's secret (<c>-s</c>).</param>
    /// <param name="cacheHome">The node's <c>XDG_CACHE_HOME</c>: its assembly cache is <c>{cacheHome}/ppsharp</c>.</param>
    /// <param name="workers">The node's worker count (<c>-w</c>).</param>
    /// <param name="port">0 for any free port, or a port the test reserved.</param>
    /// <param name="debug">Run with <c>-d</c>, so Information lines ("Received assembly", "Client connected") are logged.</param>
    /// <param name="markWorkers">Set <see cref="OnNodeVariable"/> in the node's environment.</param>
    /// <param name="extraArguments">More ppserver arguments, after the others.</param>
    /// <param name="host">The address to listen on (<c>-i</c>): 127.0.0.1, or a test network namespace's own address.</param>
    /// <param name="launcher">A command that execs ppserver in place, such as <see cref="NetworkNamespace.Exec"/>; null to start it directly.</param>
    /// <param name="environment">More variables for the node's environment (and so its workers').</param>
    public static async Task<TestNode> StartAsync(string secret, string cacheHome, int workers = 1, int port = 0, bool debug = false, bool markWorkers = false, IEnumerable<string>? extraArguments = null, string host = "127.0.0.1", IReadOnlyList<string>? launcher = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        List<string> args = ["-p", port.ToString(CultureInfo.InvariantCulture), "-i", host, "-w", workers.ToString(CultureInfo.InvariantCulture), "-s", secret, .. extraArguments ?? []];
        if (debug)
        {
            args.Add("-d");
        }

        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["XDG_CACHE_HOME"] = cacheHome };
        if (markWorkers)
        {
            variables[OnNodeVariable] = "1";
        }

        PpServerProcess process = PpServerProcess.Start(args, variables, launcher);
        try
        {
            int listening = host == "127.0.0.1" ? await process.WaitForListeningAsync() : await process.WaitForListeningOnAsync(host);
            Assert.True(port == 0 || port == listening, $"ppserver was asked for port {port} and listens on {listening}");
            return new TestNode(process, host, listening);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>A port that was free a moment ago (bound to port 0 on loopback, then released).</summary>
    public static int ReservePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A secret for one test.</summary>
    public static string NewSecret() => $"remote-test-{Guid.NewGuid():N}";

    /// <summary>
    /// Waits (bounded) until <paramref name="client"/> lists this node in <c>GetActiveNodes</c>: the client connects in
    /// the background, and this is the only way to know it has. Returns the worker count the client sees.
    /// </summary>
    public async Task<int> WaitUntilActiveAsync(JobServer client)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (client.GetActiveNodes().TryGetValue(Address, out int workers))
            {
                return workers;
            }

            Assert.True(watch.Elapsed < Bounds.Hang, $"the client did not connect to {Address} within {Bounds.Hang}.\nnode stderr:\n{Process.StandardError}");
            await Task.Delay(20);
        }
    }

    /// <summary>The pids of the node's worker processes now (its direct children), read from /proc.</summary>
    public IReadOnlyList<int> WorkerPids()
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(after[1], CultureInfo.InvariantCulture) == Pid)
                {
                    children.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }

        return children;
    }

    public void Dispose() => Process.Dispose();
}

/// <summary>A temporary folder per test class instance (the nodes' cache home), deleted afterwards.</summary>
public abstract class RemoteTestBase : IDisposable
{
    protected RemoteTestBase()
    {
        Folder = Directory.CreateTempSubdirectory("ppsharp-remote-").FullName;
        CacheHome = Path.Combine(Folder, "cache");
        Directory.CreateDirectory(CacheHome);
    }

    protected string Folder { get; }

    /// <summary>The nodes' <c>XDG_CACHE_HOME</c>.</summary>
    protected string CacheHome { get; }

    protected string Secret { get; } = TestNode.NewSecret();

    protected Task<TestNode> StartNodeAsync(int workers = 1, int port = 0, bool debug = false, bool markWorkers = false, IEnumerable<string>? extraArguments = null, IReadOnlyDictionary<string, string>? environment = null) =>
        TestNode.StartAsync(Secret, CacheHome, workers, port, debug, markWorkers, extraArguments, environment: environment);

    public virtual void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        GC.SuppressFinalize(this);
    }
}
