using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PPSharp.Tests.Server;

/// <summary>
/// The ppserver program running a real node on 127.0.0.1: the port it prints, the pid file, signals, the idle
/// timeout, and where its settings come from (config file, command line, environment).
/// </summary>
public sealed class PpServerNodeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppserver-node-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A port that was free a moment ago (bound to port 0, then released).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task AssertAcceptsConnectionsAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Bounds.Hang);
        Assert.True(client.Connected);
    }

    public static TheoryData<int> StopSignals => new() { PpServerProcess.SIGTERM, PpServerProcess.SIGINT };

    [Theory]
    [MemberData(nameof(StopSignals))]
    public async Task StopSignal_StopsTheNodeWithZero_AndRemovesThePidFile(int signal)
    {
        string pidFile = Path.Combine(_folder, "ppserver.pid");
        using PpServerProcess server = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-P", pidFile]);

        int port = await server.WaitForListeningAsync();
        Assert.True(File.Exists(pidFile), "the pid file is not there while the node runs");
        Assert.Equal(server.Pid.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(pidFile)).Trim());
        await AssertAcceptsConnectionsAsync(port);

        server.Signal(signal);

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.False(File.Exists(pidFile), "the pid file is still there after the node stopped");
    }

    [Fact]
    public async Task IdleTimeout_ExitsByItselfWithZero_WhenNoClientConnects()
    {
        string pidFile = Path.Combine(_folder, "idle.pid");
        using PpServerProcess server = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-t", "2", "-P", pidFile]);
        await server.WaitForListeningAsync();

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.False(File.Exists(pidFile), "the pid file is still there after the idle timeout");
    }

    [Fact]
    public async Task Sigusr1_PrintsTheStatisticsTable_AndTheNodeKeepsRunning()
    {
        using PpServerProcess server = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1"]);
        int port = await server.WaitForListeningAsync();

        server.Signal(PpServerProcess.SIGUSR1);
        await server.WaitForOutputLineAsync(line => line == "Job execution statistics:", "the statistics table");
        await server.WaitForOutputLineAsync(line => line.StartsWith(" job count |", StringComparison.Ordinal), "the table's heading");

        // Twice, to show the signal is handled rather than ending the process.
        server.Signal(PpServerProcess.SIGUSR1);
        await server.WaitForOutputLineAsync(line => line == "Job execution statistics:", "the statistics table a second time");
        await AssertAcceptsConnectionsAsync(port);

        server.Signal(PpServerProcess.SIGTERM);
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task ConfigFile_GivesPortAndWorkers()
    {
        int port = FreePort();
        string config = Path.Combine(_folder, "node.ini");
        await File.WriteAllTextAsync(config, $"[general]\nworkers = 1\n\n[network]\ninterface = 127.0.0.1\nport = {port}\n");
        using PpServerProcess server = PpServerProcess.Start(["-c", config]);

        Assert.Equal(port, await server.WaitForListeningAsync());
        Assert.Contains($"listening on 127.0.0.1:{port} with 1 workers", server.StandardOutput);
        await AssertAcceptsConnectionsAsync(port);
    }

    [Fact]
    public async Task CommandLine_OverridesTheConfigFile()
    {
        int configPort = FreePort();
        int commandLinePort = FreePort();
        string config = Path.Combine(_folder, "node.ini");
        string configPidFile = Path.Combine(_folder, "from-config.pid");
        string commandLinePidFile = Path.Combine(_folder, "from-command-line.pid");
        await File.WriteAllTextAsync(
            config,
            $"[general]\nworkers = 1\npid_file = {configPidFile}\n\n[network]\ninterface = 127.0.0.1\nport = {configPort}\n");
        using PpServerProcess server = PpServerProcess.Start(["-c", config, "-p", commandLinePort.ToString(CultureInfo.InvariantCulture), "-w", "2", "-P", commandLinePidFile]);

        Assert.Equal(commandLinePort, await server.WaitForListeningAsync());
        Assert.Contains($"listening on 127.0.0.1:{commandLinePort} with 2 workers", server.StandardOutput);
        Assert.True(File.Exists(commandLinePidFile));
        Assert.False(File.Exists(configPidFile));
    }

    [Fact]
    public async Task RepeatedOption_LastOneWins_AsWithPpftsGetopt()
    {
        using PpServerProcess server = PpServerProcess.Start(["-p", "1", "-i", "127.0.0.1", "-w", "2", "-p", "0", "-w", "1"]);

        Assert.NotEqual(1, await server.WaitForListeningAsync());
        Assert.Contains("with 1 workers", server.StandardOutput);
    }

    [Fact]
    public async Task EnvironmentSecret_IsUsed_WhenNoSecretOptionIsGiven()
    {
        const string secret = "secret-from-the-environment";
        using PpServerProcess server = PpServerProcess.Start(
            ["-d", "-p", "0", "-i", "127.0.0.1", "-w", "1"],
            new Dictionary<string, string> { ["PPSHARP_SECRET"] = secret });
        int port = await server.WaitForListeningAsync();
        await server.WaitForErrorLineAsync(line => line.Contains("Secret taken from environment variable PPSHARP_SECRET", StringComparison.Ordinal), "where the secret came from");

        // A client that knows the secret gets its job run on the node.
        using var client = new JobServer(ncpus: 0, ppservers: [$"127.0.0.1:{port}"], secret: secret);
        Job<double> job = client.Submit(Math.Sqrt, 16.0);
        Assert.Equal(4.0, await job.Within());

        Assert.DoesNotContain("No secret given", server.StandardError);
        Assert.DoesNotContain(secret, server.StandardError); // never logged
    }

    [Fact]
    public async Task SecretOption_WinsOverTheEnvironmentAndTheConfigFile()
    {
        string config = Path.Combine(_folder, "secret.ini");
        await File.WriteAllTextAsync(config, "[general]\nsecret = from-config\nworkers = 1\n");
        using PpServerProcess server = PpServerProcess.Start(
            ["-d", "-c", config, "-s", "from-command-line", "-p", "0", "-i", "127.0.0.1"],
            new Dictionary<string, string> { ["PPSHARP_SECRET"] = "from-environment" });
        int port = await server.WaitForListeningAsync();
        await server.WaitForErrorLineAsync(line => line.Contains("Secret taken from -s/--secret", StringComparison.Ordinal), "where the secret came from");

        using var client = new JobServer(ncpus: 0, ppservers: [$"127.0.0.1:{port}"], secret: "from-command-line");
        Assert.Equal(4.0, await client.Submit(Math.Sqrt, 16.0).Within());
    }

    [Fact]
    public async Task ConfigFileSecret_IsUsed_WhenNeitherOptionNorEnvironmentGivesOne()
    {
        string config = Path.Combine(_folder, "secret.ini");
        await File.WriteAllTextAsync(config, "[general]\nsecret = from-config\nworkers = 1\n[network]\ninterface = 127.0.0.1\nport = 0\n");
        using PpServerProcess server = PpServerProcess.Start(["-d", "-c", config]);
        await server.WaitForListeningAsync();

        await server.WaitForErrorLineAsync(line => line.Contains($"Secret taken from [general] secret in {config}", StringComparison.Ordinal), "where the secret came from");
    }

    [Fact]
    public async Task NoSecret_ListensOnLoopbackOnly_AndSaysSo()
    {
        using PpServerProcess server = PpServerProcess.Start(["-p", "0", "-w", "1"]);

        await server.WaitForListeningAsync(); // the line's pattern requires 127.0.0.1
        await server.WaitForErrorLineAsync(line => line.Contains("No secret given", StringComparison.Ordinal) && line.Contains("loopback only", StringComparison.Ordinal), "the no-secret warning");
    }

    [Fact]
    public async Task LogFormat_IsAppliedToTheLog()
    {
        using PpServerProcess server = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-f", "CUSTOM %(levelname)-8s|%(name)s|%(process)d| %(message)s"]);

        string line = await server.WaitForErrorLineAsync(l => l.StartsWith("CUSTOM ", StringComparison.Ordinal), "a log line in the given format");

        Assert.Equal($"CUSTOM WARNING |PPSharp.Server|{server.Pid}| No secret given (-s, PPSHARP_SECRET or [general] secret): listening on loopback only", line);
    }

    [Fact]
    public async Task PortInUse_ExitsWithOne_SayingWhy()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        using PpServerProcess server = PpServerProcess.Start(["-p", port.ToString(CultureInfo.InvariantCulture), "-i", "127.0.0.1", "-w", "1"]);

        Assert.Equal(1, await server.WaitForExitAsync());
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", server.StandardError);
    }

    [Fact]
    public async Task AutoDiscoveryFlag_AnnouncesOnTheBroadcastAddress_WhenBundledWithDebug()
    {
        // Bundled flags, as ppft's getopt takes them: -d and -a.
        using PpServerProcess server = PpServerProcess.Start(["-da", "-b", "127.255.255.255", "-p", "0", "-i", "127.0.0.1", "-w", "1"]);

        await server.WaitForListeningAsync();
        // Lines are read in order: the debug line about starting comes before the announcement.
        await server.WaitForErrorLineAsync(line => line.Contains("DEBUG", StringComparison.Ordinal), "a debug line (-d)");
        await server.WaitForErrorLineAsync(line => line.Contains("Announcing this node on 127.255.255.255:", StringComparison.Ordinal), "the announcement line");
    }

    public static TheoryData<bool> RestartModes => new() { false, true };

    [Theory]
    [MemberData(nameof(RestartModes))]
    public async Task RestartFlag_GivesEveryJobAFreshWorker(bool restart)
    {
        const string secret = "restart-test";
        List<string> args = ["-p", "0", "-i", "127.0.0.1", "-w", "1", "-s", secret];
        if (restart)
        {
            args.Add("-r");
        }

        using PpServerProcess server = PpServerProcess.Start(args);
        int port = await server.WaitForListeningAsync();
        using var client = new JobServer(ncpus: 0, ppservers: [$"127.0.0.1:{port}"], secret: secret);

        int first = await client.Submit(() => Environment.ProcessId).Within();
        int second = await client.Submit(() => Environment.ProcessId).Within();

        Assert.NotEqual(server.Pid, first);
        if (restart)
        {
            Assert.NotEqual(first, second);
        }
        else
        {
            Assert.Equal(first, second);
        }
    }
}
