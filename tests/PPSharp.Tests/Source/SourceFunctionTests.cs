using PPSharp.Tests.Server;

namespace PPSharp.Tests.Source;

/// <summary>Functions given as C# source text, compiled by the workers (locally, and on a real ppserver node).</summary>
public sealed class SourceFunctionTests
{
    private const string IsPrime = "static bool IsPrime(int n) { if (n < 2) return false; for (int d = 2; (long)d * d <= n; d++) if (n % d == 0) return false; return true; }";

    private static SourceFunction<int, long> SumPrimes() => new(
        "static long SumPrimes(int n) => Enumerable.Range(2, Math.Max(0, n - 2)).Where(IsPrime).Sum(x => (long)x);",
        depfuncs: [IsPrime],
        modules: ["System.Linq"]);

    [Fact]
    public async Task Submit_CompilesAndRunsSource_WithDepfuncsAndModules()
    {
        using var server = new JobServer(1);

        Job<long> job = server.Submit(SumPrimes(), 100);

        Assert.Equal(1060, await job.AsTask().WaitAsync(Bounds.Hang));
        Assert.Equal("local", job.Node);
    }

    [Fact]
    public async Task Submit_CompilesOncePerWorker_WhenManyJobsShareOneSource()
    {
        using var server = new JobServer(1);
        // A static counter lives in the compiled code: one compilation means one counter, counting every job.
        var counted = new SourceFunction<int, int>("static int Next(int ignored) => ++calls;", depfuncs: ["static int calls;"]);

        int[] values = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => server.Submit(counted, i).AsTask())).WaitAsync(Bounds.Hang);

        Assert.Equal(Enumerable.Range(1, 300).ToArray(), values.Order().ToArray());
    }

    [Fact]
    public async Task Submit_FailsWithTheCompilerDiagnostics_AndTheWorkerGoesOn()
    {
        using var server = new JobServer(1);

        var broken = new SourceFunction<int, int>("static int F(int x) => x + missing;");
        var error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(broken, 1).AsTask().WaitAsync(Bounds.Hang));

        Assert.Contains("CS0103", error.Message);
        Assert.Contains("source line 1, column 28", error.Message);
        Assert.Contains("missing", error.Message);
        Assert.Equal(1060, await server.Submit(SumPrimes(), 100).AsTask().WaitAsync(Bounds.Hang));
    }

    [Fact]
    public async Task Submit_NamesTheDepfunc_WhenTheErrorIsInOne()
    {
        using var server = new JobServer(1);
        var broken = new SourceFunction<int, int>("static int F(int x) => G(x);", depfuncs: ["static int G(int x) => x +;"]);

        var error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(broken, 1).AsTask().WaitAsync(Bounds.Hang));

        Assert.Contains("depfunc 1 line 1", error.Message);
    }

    [Fact]
    public async Task Submit_FailsClearly_WhenTheSignatureDoesNotMatchTheTypeArguments()
    {
        using var server = new JobServer(1);

        var mismatched = new SourceFunction<int, int>("static long F(int x) => x;");
        var error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(mismatched, 1).AsTask().WaitAsync(Bounds.Hang));

        Assert.Contains("does not match", error.Message);
    }

    [Fact]
    public async Task Submit_CallsTheNamedEntry_AndUsesRecordsFromDepfuncs()
    {
        using var server = new JobServer(1);
        var function = new SourceFunction<int, int, string>(
            "static string Helper(int a) => a.ToString(); static string Show(int a, int b) => new Pair(a, b).ToString();",
            depfuncs: ["public record Pair(int A, int B);"],
            entry: "Show");

        Assert.Equal("Pair { A = 3, B = 4 }", await server.Submit(function, 3, 4).AsTask().WaitAsync(Bounds.Hang));
    }

    [Fact]
    public async Task Submit_AwaitsAsyncSource_AndTemplatesAndCallbacksWork()
    {
        using var server = new JobServer(1);
        var asyncSource = new SourceFunction<int, int>("static async Task<int> Later(int x) { await Task.Yield(); return x * 3; }");
        long total = 0;
        Template<int, long> template = server.CreateTemplate(SumPrimes(), callback: v => total += v, group: "primes");

        Assert.Equal(21, await server.Submit(asyncSource, 7).AsTask().WaitAsync(Bounds.Hang));
        _ = template.Submit(100);
        _ = template.Submit(10);
        await server.WaitAsync("primes").WaitAsync(Bounds.Hang);
        Assert.Equal(1060 + 17, total);
    }

    [Fact]
    public void Constructor_RefusesEmptySource()
    {
        Assert.Throws<ArgumentException>(() => new SourceFunction<int>(" "));
    }

    [Fact]
    public async Task SourceFunction_RunsOnARemoteNode_AndReportsCompileErrorsFromThere()
    {
        const string secret = "source-test-secret";
        using PpServerProcess node = PpServerProcess.Start(["-i", "127.0.0.1", "-p", "0", "-w", "1", "-s", secret]);
        int port = await node.WaitForListeningAsync();
        using var server = new JobServer(0, ppservers: [$"127.0.0.1:{port}"], secret: secret);

        Job<long> job = server.Submit(SumPrimes(), 100);
        Assert.Equal(1060, await job.AsTask().WaitAsync(Bounds.Hang));
        Assert.Equal($"127.0.0.1:{port}", job.Node);

        var broken = new SourceFunction<int, int>("static int F(int x) => x + missing;");
        var error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(broken, 1).AsTask().WaitAsync(Bounds.Hang));
        Assert.Contains("CS0103", error.Message);
        Assert.Equal($"127.0.0.1:{port}", error.Node);
    }
}
