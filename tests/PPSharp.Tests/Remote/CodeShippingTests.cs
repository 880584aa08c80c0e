using System.Runtime.CompilerServices;

namespace PPSharp.Tests.Remote;

/// <summary>
/// Code shipping: jobs run on a real node with nothing installed there beforehand (its assembly cache starts empty),
/// and closures, bound methods, user types, generic methods, async functions and failures work as they do locally.
/// Each test uses its own node and a client with no local workers (<c>ncpus: 0</c>), so every job runs remotely.
/// </summary>
public sealed class CodeShippingTests : RemoteTestBase
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ThrowCustom(string message) => throw new CustomJobException(message);

    public static int ExitWithCode3()
    {
        Environment.Exit(3);
        return 0;
    }

    public static Account DepositAndReturn(Account account, decimal amount)
    {
        account.Deposit(amount);
        return account;
    }

    private static string DescribeSecret(object value) => value switch
    {
        Secret s => $"{s.Label}={s.Code}",
        _ => "?",
    };

    [Fact]
    public async Task Closures_CarryTheirCapturedLocalsToTheNode()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        int offset = 40;
        string suffix = "!";
        int[] weights = [1, 2, 3];
        var jobs = new List<Job<int>>();
        for (int i = 0; i < 5; i++)
        {
            int k = i * 10;
            jobs.Add(server.Submit((int x) => x + k, 1));
        }

        Job<string> closure = server.Submit((int x) => $"{x + offset + weights.Sum()}{suffix}", 2);

        Assert.Equal("48!", await closure.Within());
        Assert.Equal(new[] { 1, 11, 21, 31, 41 }, await jobs.AllWithin());
        Assert.All(jobs.Append<Job>(closure), job => Assert.Equal(node.Address, job.Node));
    }

    [Fact]
    public async Task BoundInstanceMethods_TakeTheirTargetObjectWithItsPrivateStateToTheNode()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        var triple = new Multiplier(3);
        var seven = new Multiplier(7);

        Job<int> a = server.Submit(triple.Times, 4);
        Job<int> b = server.Submit(seven.Times, 4);
        Job<string> c = server.Submit(seven.Describe, "f");

        Assert.Equal(12, await a.Within());
        Assert.Equal(28, await b.Within());
        Assert.Equal("fx7", await c.Within());
        Assert.Equal(node.Address, a.Node);
        Assert.Equal(node.Address, c.Node);
    }

    [Fact]
    public async Task UserClassesAndRecords_TravelToTheNodeAndBack_WithTheirPrivateFields()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        var account = new Account("ada", 10m);
        var shape = new Shape("triangle", [new Point(0, 0), new Point(3, 0), new Point(0, 4)], new Dictionary<string, double> { ["area"] = 6.0 });

        Job<Account> deposited = server.Submit(DepositAndReturn, account, 5.5m);
        Job<Shape> moved = server.Submit((Shape s, int dx) => s with { Corners = [.. s.Corners.Select(p => p with { X = p.X + dx })] }, shape, 10);
        Job<string> secret = server.Submit(DescribeSecret, (object)new Secret(42, "answer"));
        Job<Money> doubled = server.Submit((Money m) => m with { Amount = m.Amount * 2 }, new Money(2.50m, "EUR"));

        Account result = await deposited.Within();
        Assert.Equal("ada", result.Owner);
        Assert.Equal(15.5m, result.Balance);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), result.Created);
        Assert.Equal(new[] { "open 10", "deposit 5.5" }, result.Ledger);
        Assert.Equal(10m, account.Balance); // the node worked on a copy

        Shape shifted = await moved.Within();
        Assert.Equal(new[] { new Point(10, 0), new Point(13, 0), new Point(10, 4) }, shifted.Corners);
        Assert.Equal(6.0, shifted.Tags["area"]);
        Assert.Equal("answer=42", await secret.Within());
        Assert.Equal(new Money(5.00m, "EUR"), await doubled.Within());
        Assert.All(new Job[] { deposited, moved, secret, doubled }, job => Assert.Equal(node.Address, job.Node));
    }

    [Fact]
    public async Task GenericMethods_RunOnTheNode_WithTheirTypeArguments()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<string> echo = server.Submit(Functions.Echo<string>, "hello");
        Job<(int First, string Second)> pair = server.Submit(Functions.Pair<int, string>, 5, "five");
        Job<List<Point>> repeat = server.Submit(Functions.Repeat<Point>, new Point(1, 2), 3);

        Assert.Equal("hello", await echo.Within());
        Assert.Equal((5, "five"), await pair.Within());
        Assert.Equal(new[] { new Point(1, 2), new Point(1, 2), new Point(1, 2) }, await repeat.Within());
        Assert.All(new Job[] { echo, pair, repeat }, job => Assert.Equal(node.Address, job.Node));
    }

    [Fact]
    public async Task AsyncLambdas_AreAwaitedOnTheNode()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<int> job = server.Submit(async (int x) =>
        {
            await Task.Yield();
            await Task.Delay(1);
            return x * 2;
        }, 20);

        Assert.Equal(40, await job.Within());
        Assert.Equal(node.Address, job.Node);
    }

    [Fact]
    public async Task AsyncLambdas_CarryTheLocalsTheirBodyReadsToTheNode()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        int bonus = 1;
        string label = "sum";

        // The captured locals are read only after an await, in the async state machine's MoveNext.
        Job<string> job = server.Submit(async (int x) =>
        {
            await Task.Yield();
            return $"{label}={x * 2 + bonus}";
        }, 20);

        Assert.Equal("sum=41", await job.Within());
        Assert.Equal(node.Address, job.Node);
    }

    [Fact]
    public async Task AJobThatThrowsOnTheNode_FailsWithTheRemoteExceptionAndTheNodesName()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<int> job = server.Submit(ThrowCustom, "remote boom");

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.IsNotType<WorkerCrashedException>(error);
        Assert.Equal(typeof(CustomJobException).FullName, error.RemoteType);
        Assert.Equal("remote boom", error.RemoteMessage);
        Assert.Contains(nameof(ThrowCustom), error.RemoteStackTrace);
        Assert.Equal(node.Address, error.Node);
        Assert.Equal(node.Address, job.Node);
        Assert.Contains("remote boom", error.Message);
    }

    [Fact]
    public async Task AJobThatExitsItsWorkerOnTheNode_FailsWithWorkerCrashed_AndTheNodeGoesOnServing()
    {
        using TestNode node = await StartNodeAsync();
        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);

        Job<int> crash = server.Submit(ExitWithCode3);

        WorkerCrashedException error = await Assert.ThrowsAsync<WorkerCrashedException>(() => crash.Within());
        Assert.Equal(node.Address, error.Node);
        Assert.Matches(@"(?i)exit(ed)?( with)?( code)?\D{0,5}3\b", error.Message);

        var after = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();
        Assert.Equal(new[] { 0, 1, 4, 9, 16 }, await after.AllWithin());
        Assert.All(after, job => Assert.Equal(node.Address, job.Node));
        Assert.Contains(node.Address, server.GetActiveNodes().Keys);
    }
}
