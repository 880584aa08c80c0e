using Microsoft.Extensions.Logging;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Errors;

/// <summary>
/// A misconfigured cluster says so: a node that refuses this client is reported at once (on standard error when the
/// program configured no logging), jobs that no place will ever take fail naming each node and why, and an
/// unreachable node keeps its jobs waiting, with a warning. Real ppserver processes on loopback.
/// </summary>
public sealed class NodeErrorTests : RemoteTestBase
{
    [Fact]
    public async Task WrongSecret_WithNoLocalWorkers_FailsQueuedAndNewJobs_NamingTheNodeAndTheSecret()
    {
        using TestNode node = await StartNodeAsync();
        using var server = new JobServer(0, ppservers: [node.Address], secret: "not-" + Secret);
        Job<int> queued = server.Submit(Functions.Square, 3);

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => queued.Within());

        Assert.Contains(node.Address, error.Message);
        Assert.Contains("secret", error.Message);
        JobFailedException later = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Functions.Square, 4).Within());
        Assert.Contains("secret", later.Message);
        NodeStatus status = Assert.Single(server.GetNodeStatus());
        Assert.Equal((node.Address, NodeConnectionState.Refused, 0), (status.Node, status.State, status.Workers));
        Assert.Contains("secret", status.LastError);
    }

    [Fact]
    public async Task WrongSecret_IsLoggedAsARefusal_WithTheNodeAndTheReason()
    {
        using TestNode node = await StartNodeAsync();
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var options = new JobServerOptions { Ncpus = 0, Secret = "not-" + Secret, LoggerFactory = factory };
        options.PpServers.Add(node.Address);
        using var server = new JobServer(options);

        await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Functions.Square, 3).Within());

        LogEntry refused = Assert.Single(logs.Entries, e => e.Message.Contains("refused this client", StringComparison.Ordinal));
        Assert.True(refused.Level >= LogLevel.Warning);
        Assert.Contains(node.Address, refused.Message);
        Assert.Contains("secret", refused.Message);
    }

    [Fact]
    public async Task UnreachableNode_KeepsJobsWaiting_WithAWarning_ThenRunsThemWhenItStarts()
    {
        int port = TestNode.ReservePort();
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var options = new JobServerOptions { Ncpus = 0, Secret = Secret, LoggerFactory = factory };
        options.PpServers.Add($"127.0.0.1:{port}");
        using var server = new JobServer(options);
        Job<int> job = server.Submit(Functions.Square, 5);

        var watch = Stopwatch.StartNew();
        while (!logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("Cannot reach node", StringComparison.Ordinal)))
        {
            Assert.True(watch.Elapsed < Bounds.Hang, "no warning about the unreachable node");
            await Task.Delay(20);
        }

        Assert.False(job.IsCompleted);
        Assert.Equal(NodeConnectionState.Unreachable, Assert.Single(server.GetNodeStatus()).State);
        using TestNode node = await StartNodeAsync(port: port);
        Assert.Equal(25, await job.Within());
        Assert.Equal(NodeConnectionState.Connected, Assert.Single(server.GetNodeStatus()).State);
    }

    [Fact]
    public async Task WithNoLoggerConfigured_TheRefusalIsOneLineOnStandardError_AndTheJobFails()
    {
        using TestNode node = await StartNodeAsync();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(OrphanWorkerTests.TestParentDll());
        start.ArgumentList.Add("refused");
        start.ArgumentList.Add(node.Address);
        using Process program = Process.Start(start) ?? throw new InvalidOperationException("could not start the test program");
        try
        {
            Task<string> stdout = program.StandardOutput.ReadToEndAsync();
            Task<string> stderr = program.StandardError.ReadToEndAsync();
            await program.WaitForExitAsync().WaitAsync(Bounds.Hang);

            Assert.StartsWith("FAILED ", await stdout);
            Assert.Contains("secret", await stdout);
            string refusal = Assert.Single((await stderr).Split('\n'), l => l.Contains("refused this client", StringComparison.Ordinal));
            Assert.StartsWith("PPSharp error: Node " + node.Address, refusal);
            Assert.Contains("secret", refusal);
        }
        finally
        {
            ProcessProbe.KillIfAlive(program.Id);
        }
    }
}
