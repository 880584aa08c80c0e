using System.Net.Sockets;

namespace PPSharp.Tests;

/// <summary>Behaviour 1: any delegate runs in a worker; only what the job's own code reads travels.</summary>
public sealed class DelegateKindsTests
{
    [Fact]
    public async Task Submit_RunsStaticMethod_WhenGivenFrameworkMethodGroup()
    {
        using var server = new JobServer(1);

        Job<double> job = server.Submit(Math.Sin, Math.PI / 2);

        Assert.Equal(1.0, await job.Within(), 12);
    }

    [Fact]
    public async Task Submit_RunsStaticMethod_WhenGivenUserMethodGroup()
    {
        using var server = new JobServer(1);

        Job<long> job = server.Submit(Functions.SumPrimes, 100);

        Assert.Equal(1060L, await job.Within());
    }

    [Fact]
    public async Task Submit_RunsLambda_WhenLambdaCapturesNothing()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit((int x) => x * x + 1, 7);

        Assert.Equal(50, await job.Within());
    }

    [Fact]
    public async Task Submit_RunsInWorkerProcess_NotInCaller()
    {
        using var server = new JobServer(1);

        int pid = await server.Submit(Functions.Pid).Within();

        Assert.NotEqual(Environment.ProcessId, pid);
    }

    [Fact]
    public async Task Submit_ShipsCapturedLocals_WhenLambdaIsClosure()
    {
        using var server = new JobServer(1);
        int offset = 40;
        string suffix = "!";
        int[] weights = [1, 2, 3];

        Job<string> job = server.Submit((int x) => $"{x + offset + weights.Sum()}{suffix}", 2);

        Assert.Equal("48!", await job.Within());
    }

    [Fact]
    public async Task Submit_ShipsCurrentCapturedValues_WhenSameClosureRunsWithDifferentCaptures()
    {
        using var server = new JobServer(1);
        var jobs = new List<Job<int>>();
        for (int i = 0; i < 5; i++)
        {
            int k = i * 10;
            jobs.Add(server.Submit((int x) => x + k, 1));
        }

        Assert.Equal(new[] { 1, 11, 21, 31, 41 }, await jobs.AllWithin());
    }

    [Fact]
    public async Task Submit_ShipsTargetObject_WhenGivenBoundInstanceMethod()
    {
        using var server = new JobServer(1);
        var triple = new Multiplier(3);
        var seven = new Multiplier(7);

        Job<int> a = server.Submit(triple.Times, 4);
        Job<int> b = server.Submit(seven.Times, 4);
        Job<string> c = server.Submit(seven.Describe, "f");

        Assert.Equal(12, await a.Within());
        Assert.Equal(28, await b.Within());
        Assert.Equal("fx7", await c.Within());
    }

    [Fact]
    public async Task Submit_RunsGenericMethod_WhenGivenClosedGenericMethodGroup()
    {
        using var server = new JobServer(1);

        Job<string> echo = server.Submit(Functions.Echo<string>, "hello");
        Job<(int First, string Second)> pair = server.Submit(Functions.Pair<int, string>, 5, "five");
        Job<List<Point>> repeat = server.Submit(Functions.Repeat<Point>, new Point(1, 2), 3);

        Assert.Equal("hello", await echo.Within());
        Assert.Equal((5, "five"), await pair.Within());
        Assert.Equal(new[] { new Point(1, 2), new Point(1, 2), new Point(1, 2) }, await repeat.Within());
    }

    [Fact]
    public async Task Submit_AwaitsTaskInWorker_WhenGivenAsyncFunction()
    {
        using var server = new JobServer(1);
        Func<int, Task<int>> doubleAsync = async x =>
        {
            await Task.Yield();
            return x * 2;
        };

        Job<int> job = server.Submit(doubleAsync, 21);

        Assert.Equal(42, await job.Within());
    }

    [Fact]
    public async Task Submit_AwaitsTaskInWorker_WhenGivenAsyncLambdaWithDelay()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(async (int x) =>
        {
            await Task.Delay(1);
            return x + 1;
        }, 5);

        Assert.Equal(6, await job.Within());
    }

    [Fact]
    public async Task Submit_ShipsLocalsReadOnlyAfterAnAwait_WhenLambdaIsAsync()
    {
        using var server = new JobServer(1);
        int bonus = 1;
        string label = "sum";

        Job<string> job = server.Submit(async (int x) =>
        {
            await Task.Yield();
            return $"{label}={(x * 2) + bonus}";
        }, 20);

        Assert.Equal("sum=41", await job.Within());
    }

    [Fact]
    public async Task Submit_ReturnsJobThatCompletes_WhenGivenActionWithArgument()
    {
        using var server = new JobServer(1);
        string path = Path.Combine(Path.GetTempPath(), $"ppsharp-action-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, "delete me");
        try
        {
            Job done = server.Submit((string p) => File.Delete(p), path);

            await done.Within();

            Assert.True(done.IsCompleted);
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Submit_ReturnsJobThatCompletes_WhenGivenActionWithoutArguments()
    {
        using var server = new JobServer(1);
        string path = Path.Combine(Path.GetTempPath(), $"ppsharp-action0-{Guid.NewGuid():N}.txt");
        try
        {
            Job done = server.Submit(() => File.WriteAllText(path, "written by worker"));

            await done.Within();

            Assert.Equal("written by worker", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Submit_RunsFunction_WhenItTakesNoArguments()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(() => 42);

        Assert.Equal(42, await job.Within());
    }

    [Fact]
    public async Task Submit_PassesAllArguments_WhenFunctionTakesEightArguments()
    {
        using var server = new JobServer(1);

        Job<string> job = server.Submit(
            (int a, long b, double c, string d, bool e, char f, byte g, decimal h) => $"{a}|{b}|{c}|{d}|{e}|{f}|{g}|{h}",
            1, 2L, 3.5, "four", true, 'f', (byte)7, 8.25m);

        Assert.Equal("1|2|3.5|four|True|f|7|8.25", await job.Within());
    }

    [Fact]
    public async Task Submit_PassesAllArguments_WhenActionTakesEightArguments()
    {
        using var server = new JobServer(1);
        string path = Path.Combine(Path.GetTempPath(), $"ppsharp-action8-{Guid.NewGuid():N}.txt");
        try
        {
            Job done = server.Submit(
                (string p, int a, int b, int c, int d, int e, int f, int g) => File.WriteAllText(p, (a + b + c + d + e + f + g).ToString()),
                path, 1, 2, 3, 4, 5, 6, 7);

            await done.Within();

            Assert.Equal("28", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Submit_RunsClosure_WhenSameScopeAlsoCapturesTheJobServer()
    {
        using var server = new JobServer(1);
        int k = 7;
        // This lambda makes the compiler put `server` on the same closure object as `k`.
        Func<int> ncpus = () => server.Ncpus;

        Job<int> job = server.Submit((int x) => x + k, 1);

        Assert.Equal(8, await job.Within());
        Assert.Equal(1, ncpus());
    }

    [Fact]
    public async Task Submit_RunsClosure_WhenSameScopeAlsoCapturesASocket()
    {
        using var server = new JobServer(1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        int k = 3;
        // This lambda makes the compiler put `socket` on the same closure object as `k`.
        Func<int> available = () => socket.Available;

        Job<int> job = server.Submit((int x) => x * k, 5);

        Assert.Equal(15, await job.Within());
        GC.KeepAlive(available);
    }

    [Fact]
    public async Task Submit_RunsClosure_WhenNestedScopeReadsOuterLocalAndOuterScopeHoldsServerAndStream()
    {
        using var server = new JobServer(1);
        using var stream = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
        int outer = 100;
        Func<long> touch = () => stream.Length + server.Ncpus;
        var jobs = new List<Job<int>>();
        for (int i = 0; i < 3; i++)
        {
            int inner = i;
            jobs.Add(server.Submit((int x) => x + outer + inner, 1000));
        }

        Assert.Equal(new[] { 1100, 1101, 1102 }, await jobs.AllWithin());
        GC.KeepAlive(touch);
    }

    [Fact]
    public async Task Submit_RefusesJob_WhenJobReadsCapturedSocket()
    {
        using var server = new JobServer(1);
        using var listenSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        Exception? error = await Bounds.RecordWithin(() => server.Submit(() => listenSocket.Available));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Contains("listenSocket", error.Message);
        Assert.Contains("Socket", error.Message);
    }

    [Fact]
    public async Task Submit_RefusesJob_WhenJobReadsCapturedStream()
    {
        using var server = new JobServer(1);
        using var logStream = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);

        Exception? error = await Bounds.RecordWithin(() => server.Submit(() => logStream.Length));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Contains("logStream", error.Message);
        Assert.Contains("FileStream", error.Message);
    }

    [Fact]
    public async Task Submit_RefusesJob_WhenJobReadsCapturedJobServer()
    {
        using var theServer = new JobServer(1);

        Exception? error = await Bounds.RecordWithin(() => theServer.Submit(() => theServer.Ncpus));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Contains("theServer", error.Message);
        Assert.Contains("JobServer", error.Message);
    }

    [Fact]
    public async Task Submit_RefusesJob_WhenNestedScopeJobReadsSocketCapturedInOuterScope()
    {
        using var server = new JobServer(1);
        using var outerSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        int offset = 1;
        Exception? error = null;
        for (int i = 0; i < 1; i++)
        {
            int inner = i;
            error = await Bounds.RecordWithin(() => server.Submit((int x) => x + inner + offset + outerSocket.Available, 1));
        }

        Assert.NotNull(error);
        Assert.Contains("outerSocket", error.Message);
        Assert.Contains("Socket", error.Message);
    }

    [Fact]
    public async Task Submit_KeepsServerUsable_AfterRefusingAJob()
    {
        using var server = new JobServer(1);
        using var badSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _ = await Bounds.RecordWithin(() => server.Submit(() => badSocket.Available));

        Assert.Equal(9, await server.Submit(Functions.Square, 3).Within());
    }

    private static Job<List<T>> SubmitFromGenericMethod<T>(JobServer server, T value, int copies) =>
        server.Submit((int n) => Enumerable.Repeat(value, n).ToList(), copies);

    [Fact]
    public async Task Submit_ShipsGenericClosure_WhenLambdaIsCreatedInsideAGenericMethod()
    {
        using var server = new JobServer(1);

        Job<List<string>> text = SubmitFromGenericMethod(server, "abc", 3);
        Job<List<Point>> point = SubmitFromGenericMethod(server, new Point(5, 6), 2);

        Assert.Equal(new[] { "abc", "abc", "abc" }, await text.Within());
        Assert.Equal(new[] { new Point(5, 6), new Point(5, 6) }, await point.Within());
    }

    [Fact]
    public async Task Submit_RunsLocalFunctions_WhenStaticOrCapturing()
    {
        using var server = new JobServer(1);
        int bonus = 10;
        static int Twice(int x) => x * 2;
        int PlusBonus(int x) => x + bonus;

        Job<int> a = server.Submit(Twice, 21);
        Job<int> b = server.Submit(PlusBonus, 5);

        Assert.Equal(42, await a.Within());
        Assert.Equal(15, await b.Within());
    }

    [Fact]
    public async Task Submit_RunsStaticLambda_WhenDeclaredStatic()
    {
        using var server = new JobServer(1);

        Job<string> job = server.Submit(static (string s, int n) => string.Concat(Enumerable.Repeat(s, n)), "ab", 3);

        Assert.Equal("ababab", await job.Within());
    }

    [Fact]
    public async Task Submit_ShipsThis_WhenLambdaReadsInstanceFieldsOfItsClass()
    {
        using var server = new JobServer(1);
        var calculator = new OffsetCalculator(100);

        Job<int> job = calculator.SubmitAdd(server, 23);

        Assert.Equal(123, await job.Within());
    }

    [Fact]
    public async Task Submit_RunsBoundMethodOfFrameworkObject_WhenTargetIsAString()
    {
        using var server = new JobServer(1);
        string text = "Hello World";

        Job<string> upper = server.Submit(text.ToUpperInvariant);
        Job<bool> starts = server.Submit(text.StartsWith, "Hello");

        Assert.Equal("HELLO WORLD", await upper.Within());
        Assert.True(await starts.Within());
    }

    [Fact]
    public async Task Submit_ShipsBoxedTarget_WhenGivenInstanceMethodOfAStruct()
    {
        using var server = new JobServer(1);
        var range = new IntRange(3, 7);

        Job<int> job = server.Submit(range.Clamp, 42);

        Assert.Equal(7, await job.Within());
    }

    [Fact]
    public async Task Submit_RunsAsyncFunctionReturningPlainTask_AsJob()
    {
        using var server = new JobServer(1);
        string path = Path.Combine(Path.GetTempPath(), $"ppsharp-asynctask-{Guid.NewGuid():N}.txt");
        try
        {
            Job done = server.Submit(async (string p) =>
            {
                await Task.Yield();
                await File.WriteAllTextAsync(p, "async action");
            }, path);

            await done.Within();

            Assert.Equal("async action", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Submit_ShipsCapturedValueAsItWasAtSubmit_WhenLocalChangesWhileJobIsQueued()
    {
        using var server = new JobServer(0);
        int k = 1;
        int[] data = [1, 2, 3];

        Job<int> captured = server.Submit(() => k);
        Job<int> argument = server.Submit((int[] d) => d.Sum(), data);
        k = 2;
        data[0] = 100;
        server.Ncpus = 1;

        Assert.Equal(1, await captured.Within());
        Assert.Equal(6, await argument.Within());
    }

    [Fact]
    public async Task Submit_RefusesJob_WhenJobReadsCapturedFileHandle()
    {
        using var server = new JobServer(1);
        string path = Path.GetTempFileName();
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle rawHandle = File.OpenHandle(path);

            Exception? error = await Bounds.RecordWithin(() => server.Submit(() => RandomAccess.GetLength(rawHandle)));

            Assert.NotNull(error);
            Assert.IsNotAssignableFrom<JobFailedException>(error);
            Assert.Contains("rawHandle", error.Message);
            Assert.Contains("SafeFileHandle", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>A class whose lambda captures <c>this</c>.</summary>
public sealed class OffsetCalculator(int offset)
{
    private readonly int offset = offset;

    public Job<int> SubmitAdd(JobServer server, int x) => server.Submit((int v) => v + offset, x);
}

/// <summary>A struct whose instance method is bound into a delegate (the struct is boxed).</summary>
public readonly struct IntRange(int low, int high)
{
    public int Low { get; } = low;

    public int High { get; } = high;

    public int Clamp(int x) => Math.Clamp(x, Low, High);
}
