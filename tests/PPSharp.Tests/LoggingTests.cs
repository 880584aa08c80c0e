using Microsoft.Extensions.Logging;

namespace PPSharp.Tests;

/// <summary>Behaviour 14: logging through Microsoft.Extensions.Logging, configured by an options object.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task LoggerFactory_ReceivesEntries_WhenServerStartsWorkersAndRunsJobs()
    {
        using var provider = new CapturingLoggerProvider();
        using var loggerFactory = new LoggerFactory([provider]);
        using (var server = new JobServer(new JobServerOptions { Ncpus = 1, LoggerFactory = loggerFactory }))
        {
            Assert.Equal(1, server.Ncpus);
            Assert.Equal(4, await server.Submit(Functions.Square, 2).Within());
        }

        Assert.NotEmpty(provider.Entries);
        Assert.All(provider.Entries, e => Assert.StartsWith("PPSharp", e.Category));
    }

    [Fact]
    public async Task LoggerFactory_ReceivesWarningOrError_WhenWorkerCrashes()
    {
        using var provider = new CapturingLoggerProvider();
        using var loggerFactory = new LoggerFactory([provider]);
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, LoggerFactory = loggerFactory });

        await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(WorkerCrashTests.ExitWithCode3).Within());

        Assert.Contains(provider.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task JobServer_RunsJobs_WhenOptionsHaveNoLoggerFactory()
    {
        using var server = new JobServer(new JobServerOptions { Ncpus = 1 });

        Assert.Equal(81, await server.Submit(Functions.Square, 9).Within());
    }
}

/// <summary>Behaviour 14: silent by default. Swaps Console.Out and Console.Error, so it runs alone.</summary>
[Collection(nameof(SerialTestGroup))]
public sealed class SilentByDefaultTests
{
    [Fact]
    public async Task JobServer_WritesNothingToConsole_WhenNoLoggerFactoryIsGivenAndJobsAreQuiet()
    {
        TextWriter originalOut = Console.Out;
        TextWriter originalError = Console.Error;
        using var capturedOut = new StringWriter();
        using var capturedError = new StringWriter();
        Console.SetOut(capturedOut);
        Console.SetError(capturedError);
        try
        {
            using var server = new JobServer(2);
            server.Ncpus = 1;
            int[] results = await Enumerable.Range(0, 10).Select(i => server.Submit(Functions.Square, i)).ToList().AllWithin();
            Assert.Equal(285, results.Sum());
            _ = server.Submit(Functions.Square, 3).Result;
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }

        Assert.Equal(string.Empty, capturedOut.ToString());
        Assert.Equal(string.Empty, capturedError.ToString());
    }
}
