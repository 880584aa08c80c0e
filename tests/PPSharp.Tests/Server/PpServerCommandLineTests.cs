namespace PPSharp.Tests.Server;

/// <summary>
/// The ppserver program's command line and config file: help, and every way of giving it a bad value. Each of
/// these runs stops before a node starts, so they need no client and no worker.
/// </summary>
public sealed class PpServerCommandLineTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppserver-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> HelpOptions => new() { "-h", "--help" };

    [Theory]
    [MemberData(nameof(HelpOptions))]
    public async Task Help_ListsEveryOption_AndExitsWithZero(string help)
    {
        (int exitCode, string stdout, string stderr) = await PpServerProcess.RunAsync(help);

        Assert.Equal(0, exitCode);
        Assert.Equal(string.Empty, stderr);
        string[] options =
        [
            "-h", "--help", "-d", "--debug", "-f", "--log-format", "-a", "--autodiscovery", "-r", "--restart",
            "-n", "--proto", "-c", "--config", "-i", "--interface", "-b", "--broadcast", "-p", "--port",
            "-w", "--workers", "-s", "--secret", "-t", "--timeout", "-k", "--socket-timeout", "-P", "--pid-file",
            "-C", "--cache-size", "--max-message-size", "--max-output", "--max-connections", "--max-queued-jobs",
            "--max-jobs-per-worker", "--salt",
        ];
        foreach (string option in options)
        {
            Assert.Matches($@"(^|[\s,]){System.Text.RegularExpressions.Regex.Escape(option)}[\s,]", stdout);
        }

        Assert.Contains("Usage: ppserver", stdout);
        Assert.Contains("SIGUSR1", stdout);
        Assert.Contains("PPSHARP_SECRET", stdout);
        Assert.Contains("[network]", stdout);
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "-p", "abc", "-p/--port" },
        { "--port", "70000", "-p/--port" },
        { "-w", "0", "-w/--workers" },
        { "--workers", "two", "-w/--workers" },
        { "-n", "99", "-n/--proto" },
        { "-t", "-1", "-t/--timeout" },
        { "--timeout", "soon", "-t/--timeout" },
        { "-k", "0", "-k/--socket-timeout" },
        { "-b", "not-an-address", "-b/--broadcast" },
        { "-f", "%(nosuchfield)s", "-f/--log-format" },
        { "-f", "100% sure: %(message)s", "-f/--log-format" },
        { "-i", "not a host!", "-i/--interface" },
        { "-s", "", "-s/--secret" },
        { "-C", "0", "-C/--cache-size" },
        { "--max-message-size", "0", "--max-message-size" },
        { "--max-message-size", "4096", "--max-message-size" },
        { "--max-output", "1", "--max-output" },
        { "--max-connections", "none", "--max-connections" },
        { "--max-queued-jobs", "0", "--max-queued-jobs" },
        { "--max-jobs-per-worker", "-1", "--max-jobs-per-worker" },
        { "--salt", "00112233", "--salt" },
        { "--salt", "zz112233445566778899aabbccddeeff", "--salt" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task BadOptionValue_ExitsWithTwo_NamingTheOptionAndTheValue(string option, string value, string named)
    {
        // Everything else valid, so that only the bad value can stop it (a node that started anyway is killed).
        var args = new List<string> { option, value };
        if (option is not ("-p" or "--port"))
        {
            args.AddRange(["-p", "0"]);
        }

        if (option is not ("-i" or "--interface"))
        {
            args.AddRange(["-i", "127.0.0.1"]);
        }

        (int exitCode, string stdout, string stderr) = await PpServerProcess.RunAsync([.. args]);

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("listening on", stdout);
        Assert.Contains($"bad value '{value}' for {named}", stderr);
    }

    [Fact]
    public async Task UnknownOption_ExitsWithTwo_NamingIt()
    {
        (int exitCode, _, string stderr) = await PpServerProcess.RunAsync("-p", "0", "-i", "127.0.0.1", "--no-such-option");

        Assert.Equal(2, exitCode);
        Assert.Contains("--no-such-option", stderr);
    }

    [Fact]
    public async Task OptionWithoutItsValue_ExitsWithTwo_NamingIt()
    {
        (int exitCode, _, string stderr) = await PpServerProcess.RunAsync("-i", "127.0.0.1", "-p");

        Assert.Equal(2, exitCode);
        Assert.Contains("'-p'", stderr);
    }

    [Fact]
    public async Task MissingConfigFile_ExitsWithTwo_NamingThePath()
    {
        string missing = Path.Combine(_folder, "missing.ini");

        (int exitCode, string stdout, string stderr) = await PpServerProcess.RunAsync("-c", missing, "-p", "0", "-i", "127.0.0.1");

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("listening on", stdout);
        Assert.Contains($"config file not found: {missing}", stderr);
    }

    public static TheoryData<string, string, string> BadConfigValues => new()
    {
        { "network", "port", "abc" },
        { "network", "port", "65536" },
        { "general", "workers", "many" },
        { "general", "debug", "maybe" },
        { "general", "restart", "sometimes" },
        { "general", "proto", $"{PPSharp.Protocol.Messages.ProtocolVersion + 1}" }, // a version this node does not speak
        { "network", "timeout", "later" },
        { "network", "socket_timeout", "-3" },
        { "network", "interface", "not a host!" },
        { "network", "broadcast", "everyone" },
        { "network", "autodiscovery", "perhaps" },
        { "general", "cache_size", "lots" },
        { "general", "max_message_size", "big" },
        { "general", "max_output", "-1" },
        { "network", "max_connections", "0" },
        { "general", "max_queued_jobs", "many" },
        { "general", "salt", "pepper" },
    };

    [Theory]
    [MemberData(nameof(BadConfigValues))]
    public async Task BadConfigValue_ExitsWithTwo_NamingTheKeyAndTheFile(string section, string key, string value)
    {
        string config = Path.Combine(_folder, "bad.ini");
        string oneWorker = key == "workers" ? string.Empty : "[general]\nworkers = 1\n";
        await File.WriteAllTextAsync(config, $"{oneWorker}[{section}]\n{key} = {value}\n");
        var args = new List<string> { "-c", config };
        if (key != "port")
        {
            args.AddRange(["-p", "0"]);
        }

        if (key != "interface")
        {
            args.AddRange(["-i", "127.0.0.1"]);
        }

        (int exitCode, string stdout, string stderr) = await PpServerProcess.RunAsync([.. args]);

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("listening on", stdout);
        Assert.Contains($"bad value '{value}' for [{section}] {key} in {config}", stderr);
    }

    [Fact]
    public async Task MalformedConfigFile_ExitsWithTwo_NamingTheFile()
    {
        string config = Path.Combine(_folder, "malformed.ini");
        await File.WriteAllTextAsync(config, "[network]\nthis line has no equals sign\n");

        (int exitCode, _, string stderr) = await PpServerProcess.RunAsync("-c", config, "-p", "0", "-i", "127.0.0.1");

        Assert.Equal(2, exitCode);
        Assert.Contains($"cannot read config file {config}", stderr);
    }

    [Fact]
    public async Task NonLoopbackInterfaceWithoutSecret_IsRefused_WithExitCodeTwo()
    {
        // Refused before anything binds: nothing listens on 0.0.0.0 even for a moment.
        (int exitCode, string stdout, string stderr) = await PpServerProcess.RunAsync("-i", "0.0.0.0", "-p", "0");

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("listening on", stdout);
        Assert.Contains("refusing to listen on 0.0.0.0 (-i/--interface) without a secret", stderr);
    }

    [Fact]
    public async Task NonLoopbackInterfaceFromConfigWithoutSecret_IsRefused_NamingTheKey()
    {
        string config = Path.Combine(_folder, "public.ini");
        await File.WriteAllTextAsync(config, "[network]\ninterface = 0.0.0.0\nport = 0\n");

        (int exitCode, _, string stderr) = await PpServerProcess.RunAsync("-c", config);

        Assert.Equal(2, exitCode);
        Assert.Contains($"refusing to listen on 0.0.0.0 ([network] interface in {config}) without a secret", stderr);
    }
}
