namespace PPSharp.Tests.Errors;

/// <summary>
/// A job's console output reaches the caller's console when the job completes, even if its result is never read,
/// standard output and standard error each to its own stream; or only Job.Output when asked. Swaps the console, so
/// it runs alone.
/// </summary>
[Collection(nameof(SerialTestGroup))]
public sealed class ConsoleOutputTests
{
    private static int Chatty(int x)
    {
        Console.WriteLine($"out {x} a");
        Console.Error.WriteLine($"err {x}");
        Console.Write($"out {x} b");
        return x;
    }

    private static async Task<(string Out, string Err, Job<int> Job)> RunCapturedAsync(ConsoleOutput mode, int x)
    {
        TextWriter originalOut = Console.Out;
        TextWriter originalErr = Console.Error;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(TextWriter.Synchronized(stdout));
        Console.SetError(TextWriter.Synchronized(stderr));
        try
        {
            using var server = new JobServer(new JobServerOptions { Ncpus = 1, ConsoleOutput = mode });
            Job<int> job = server.Submit(Chatty, x);
            await Bounds.RunWithin(() => server.Wait()); // the result is never read
            return (stdout.ToString(), stderr.ToString(), job);
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalErr);
        }
    }

    [Fact]
    public async Task Output_ReachesTheConsoleOnCompletion_EachStreamToItsOwn_WithoutReadingTheResult()
    {
        (string stdout, string stderr, Job<int> job) = await RunCapturedAsync(ConsoleOutput.OnCompletion, 41);

        Assert.Contains($"out 41 a{Environment.NewLine}out 41 b", stdout);
        Assert.DoesNotContain("err 41", stdout);
        Assert.Contains("err 41", stderr);
        Assert.DoesNotContain("out 41", stderr);
        Assert.Equal($"out 41 a{Environment.NewLine}err 41{Environment.NewLine}out 41 b", job.Output);
    }

    [Fact]
    public async Task Output_StaysInJobOutput_WhenConsoleOutputIsNone()
    {
        (string stdout, string stderr, Job<int> job) = await RunCapturedAsync(ConsoleOutput.None, 42);

        Assert.DoesNotContain("out 42", stdout);
        Assert.DoesNotContain("err 42", stderr);
        Assert.Contains("err 42", job.Output);
        Assert.Equal(42, job.Result);
    }
}
