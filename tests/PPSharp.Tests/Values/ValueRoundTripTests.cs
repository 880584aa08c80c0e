using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Net;
using System.Numerics;

namespace PPSharp.Tests.Values;

public enum Colour
{
    Red = 1,
    Green = 2,
}

[Flags]
public enum Access
{
    None = 0,
    Read = 1,
    Write = 2,
}

public readonly record struct Point(double X, double Y);

public sealed record Order(string Customer, IReadOnlyList<Line> Lines, decimal Total);

public sealed record Line(string Sku, int Quantity);

public struct Counter
{
    public int Hits { get; set; }

    public string? Name { get; set; }
}

/// <summary>A user class whose state is private (fields only reachable by its methods).</summary>
public sealed class Account(string owner, decimal balance)
{
    private readonly string _owner = owner;
    private decimal _balance = balance;
    private readonly List<decimal> _history = [balance];

    public string Describe() => $"{_owner}: {_balance} ({string.Join(",", _history)})";

    public void Deposit(decimal amount)
    {
        _balance += amount;
        _history.Add(amount);
    }
}

/// <summary>One job server shared by the round trips of one test class.</summary>
public sealed class EchoServer : IDisposable
{
    public JobServer Server { get; } = new(1);

    public async Task<T> RoundTripAsync<T>(T value) => await Server.Submit(Functions.Echo<T>, value).Within();

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// Every value a user would send, round-tripped through a real worker (argument in, result back): the table in
/// docs/values.md lists these.
/// </summary>
public sealed class ValueRoundTripTests(EchoServer echo) : IClassFixture<EchoServer>
{
    [Fact]
    public async Task Numbers_RoundTrip()
    {
        BigInteger big = BigInteger.Pow(-7, 300) + 12345;
        Assert.Equal(big, await echo.RoundTripAsync(big));
        Assert.Equal(BigInteger.Zero, await echo.RoundTripAsync(BigInteger.Zero));
        Assert.Equal((Half)3.5, await echo.RoundTripAsync((Half)3.5));
        Assert.Equal(Int128.MinValue + 17, await echo.RoundTripAsync(Int128.MinValue + 17));
        Assert.Equal(UInt128.MaxValue - 3, await echo.RoundTripAsync(UInt128.MaxValue - 3));
        Assert.Equal(79228162514264337593543950335m, await echo.RoundTripAsync(79228162514264337593543950335m));
        Assert.Equal(-0.000001m, await echo.RoundTripAsync(-0.000001m));
        Assert.Equal(new Complex(1.5, -2.25), await echo.RoundTripAsync(new Complex(1.5, -2.25)));
        Assert.Equal((sbyte)-5, await echo.RoundTripAsync((sbyte)-5));
        Assert.Equal(ulong.MaxValue, await echo.RoundTripAsync(ulong.MaxValue));
        Assert.Equal(float.NaN, await echo.RoundTripAsync(float.NaN));
        Assert.Equal(double.NegativeInfinity, await echo.RoundTripAsync(double.NegativeInfinity));
        Assert.Equal('λ', await echo.RoundTripAsync('λ'));
        Assert.True(await echo.RoundTripAsync(true));
    }

    [Fact]
    public async Task TimesAndIdentifiers_RoundTrip()
    {
        Assert.Equal(new DateOnly(2026, 11, 30), await echo.RoundTripAsync(new DateOnly(2026, 11, 30)));
        Assert.Equal(new TimeOnly(23, 59, 58, 123), await echo.RoundTripAsync(new TimeOnly(23, 59, 58, 123)));
        var offset = new DateTimeOffset(2026, 11, 30, 1, 2, 3, TimeSpan.FromHours(5.5));
        DateTimeOffset offsetBack = await echo.RoundTripAsync(offset);
        Assert.Equal((offset, offset.Offset), (offsetBack, offsetBack.Offset));
        var local = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Local);
        Assert.Equal((local, DateTimeKind.Local), (await echo.RoundTripAsync(local) is var l ? (l, l.Kind) : default));
        Assert.Equal(TimeSpan.FromTicks(-123456789), await echo.RoundTripAsync(TimeSpan.FromTicks(-123456789)));
        Guid guid = Guid.NewGuid();
        Assert.Equal(guid, await echo.RoundTripAsync(guid));
        Assert.Equal(new Uri("https://example.org/a?b=c#d"), await echo.RoundTripAsync(new Uri("https://example.org/a?b=c#d")));
        Assert.Equal(new Uri("relative/path", UriKind.Relative), await echo.RoundTripAsync(new Uri("relative/path", UriKind.Relative)));
        Assert.Equal(new Version(1, 2, 3, 4), await echo.RoundTripAsync(new Version(1, 2, 3, 4)));
        Assert.Equal(IPAddress.Parse("192.168.1.20"), await echo.RoundTripAsync(IPAddress.Parse("192.168.1.20")));
        Assert.Equal(IPAddress.Parse("fe80::1%3"), await echo.RoundTripAsync(IPAddress.Parse("fe80::1%3")));
    }

    [Fact]
    public async Task EnumsNullablesAndStrings_RoundTrip()
    {
        Assert.Equal(Colour.Green, await echo.RoundTripAsync(Colour.Green));
        Assert.Equal(Access.Read | Access.Write, await echo.RoundTripAsync(Access.Read | Access.Write));
        Assert.Null(await echo.RoundTripAsync<int?>(null));
        Assert.Equal(7, await echo.RoundTripAsync<int?>(7));
        Assert.Equal(new Point(1, 2), await echo.RoundTripAsync<Point?>(new Point(1, 2)));
        Assert.Equal("héllo\0wörld 🌍", await echo.RoundTripAsync("héllo\0wörld 🌍"));
        Assert.Null(await echo.RoundTripAsync<string?>(null));
        Assert.Equal(string.Empty, await echo.RoundTripAsync(string.Empty));
        Assert.Equal(new string?[] { "a", null, "c" }, await echo.RoundTripAsync<string?[]>(["a", null, "c"]));
    }

    [Fact]
    public async Task Arrays_RoundTrip()
    {
        Assert.Equal(new[] { 1, 2, 3 }, await echo.RoundTripAsync<int[]>([1, 2, 3]));
        Assert.Equal(Array.Empty<double>(), await echo.RoundTripAsync<double[]>([]));
        Assert.Equal(new byte[] { 0, 255, 7 }, await echo.RoundTripAsync(new byte[] { 0, 255, 7 }));
        int[,] grid = { { 1, 2, 3 }, { 4, 5, 6 } };
        int[,] gridBack = await echo.RoundTripAsync(grid);
        Assert.Equal((2, 3), (gridBack.GetLength(0), gridBack.GetLength(1)));
        Assert.Equal(grid, gridBack);
        double[,,] cube = new double[2, 2, 2];
        cube[1, 0, 1] = 9.5;
        Assert.Equal(9.5, (await echo.RoundTripAsync(cube))[1, 0, 1]);
        int[][] jagged = [[1], [2, 3], []];
        Assert.Equal(jagged, await echo.RoundTripAsync(jagged));
        Memory<int> memory = new int[] { 9, 8, 7, 6 }.AsMemory(1, 2);
        Assert.Equal(new[] { 8, 7 }, (await echo.RoundTripAsync(memory)).ToArray());
        ReadOnlyMemory<byte> bytes = new byte[] { 1, 2, 3 };
        Assert.Equal(new byte[] { 1, 2, 3 }, (await echo.RoundTripAsync(bytes)).ToArray());
        ReadOnlyMemory<char> chars = "hello".AsMemory(1, 3);
        Assert.Equal("ell", (await echo.RoundTripAsync(chars)).ToString());
    }

    [Fact]
    public async Task GenericCollections_RoundTrip()
    {
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync(new List<int> { 1, 2 }));
        var dictionary = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };
        Dictionary<string, int> dictionaryBack = await echo.RoundTripAsync(dictionary);
        Assert.Equal(2, dictionaryBack["b"]);
        Assert.True((await echo.RoundTripAsync(new HashSet<string> { "x", "y" })).SetEquals(["y", "x"]));
        Assert.Equal(new[] { 1, 2, 3 }, await echo.RoundTripAsync(new SortedSet<int> { 3, 1, 2 }));
        Assert.Equal(2, (await echo.RoundTripAsync(new SortedDictionary<string, int> { ["k"] = 2 }))["k"]);
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync(new Queue<int>([1, 2])));
        Assert.Equal(new[] { 2, 1 }, await echo.RoundTripAsync(new Stack<int>([1, 2])));
        Assert.Equal(new[] { 1, 2, 3 }, await echo.RoundTripAsync(new LinkedList<int>([1, 2, 3])));
        Assert.Equal(5, (await echo.RoundTripAsync(new ConcurrentDictionary<string, int>([new("five", 5)])))["five"]);
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync<IReadOnlyList<int>>(new ReadOnlyCollection<int>([1, 2])));
        Assert.Equal(new[] { 3 }, await echo.RoundTripAsync<IEnumerable<int>>(new List<int> { 3 }));
        Assert.Equal(4, (await echo.RoundTripAsync<IReadOnlyDictionary<string, int>>(new Dictionary<string, int> { ["four"] = 4 }))["four"]);
    }

    [Fact]
    public async Task ImmutableCollections_RoundTrip()
    {
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync(ImmutableArray.Create(1, 2)));
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync(ImmutableList.Create(1, 2)));
        ImmutableDictionary<string, int> dictionary = ImmutableDictionary<string, int>.Empty.Add("a", 1).Add("b", 2);
        ImmutableDictionary<string, int> dictionaryBack = await echo.RoundTripAsync(dictionary);
        Assert.Equal((1, 2), (dictionaryBack["a"], dictionaryBack["b"]));
        Assert.Contains("q", await echo.RoundTripAsync(ImmutableHashSet.Create("p", "q")));
        Assert.Equal(new[] { "a", "b" }, await echo.RoundTripAsync(ImmutableSortedSet.Create("b", "a")));
        Assert.Equal(3, (await echo.RoundTripAsync(ImmutableSortedDictionary<string, int>.Empty.Add("c", 3)))["c"]);
        Assert.Equal(new[] { 1, 2 }, await echo.RoundTripAsync(ImmutableQueue.Create(1, 2)));
        Assert.Equal(new[] { 2, 1 }, await echo.RoundTripAsync(ImmutableStack.Create(1, 2)));
    }

    [Fact]
    public async Task RecordsStructsTuplesAndClasses_RoundTrip()
    {
        var order = new Order("ada", [new Line("x", 2), new Line("y", 1)], 12.5m);
        Order orderBack = await echo.RoundTripAsync(order);
        Assert.Equal((order.Customer, order.Total), (orderBack.Customer, orderBack.Total));
        Assert.Equal(order.Lines, orderBack.Lines);
        Assert.Equal(new Point(3, 4), await echo.RoundTripAsync(new Point(3, 4)));
        Counter counter = await echo.RoundTripAsync(new Counter { Hits = 3, Name = "c" });
        Assert.Equal((3, "c"), (counter.Hits, counter.Name));
        Assert.Equal((1, "two", 3.0), await echo.RoundTripAsync((1, "two", 3.0)));
        Assert.Equal(Tuple.Create(1, "a"), await echo.RoundTripAsync(Tuple.Create(1, "a")));
        Assert.Equal(new KeyValuePair<string, int>("k", 1), await echo.RoundTripAsync(new KeyValuePair<string, int>("k", 1)));
        var account = new Account("bob", 10m);
        account.Deposit(5m);
        Assert.Equal(account.Describe(), (await echo.RoundTripAsync(account)).Describe());
        Assert.Equal("bob: 15 (10,5)", (await echo.RoundTripAsync<object>(account) as Account)!.Describe());
    }

    [Fact]
    public async Task ExceptionsAsValues_RoundTrip()
    {
        var error = new ArgumentOutOfRangeException("count", 5, "too many");
        ArgumentOutOfRangeException back = await echo.RoundTripAsync(error);
        Assert.Equal((error.ParamName, error.ActualValue, error.Message), (back.ParamName, back.ActualValue, back.Message));
        Exception wrapped = await echo.RoundTripAsync<Exception>(new AggregateException("many", new FormatException("f"), new KeyNotFoundException("k")));
        AggregateException aggregate = Assert.IsType<AggregateException>(wrapped);
        Assert.Equal(new[] { typeof(FormatException), typeof(KeyNotFoundException) }, aggregate.InnerExceptions.Select(e => e.GetType()));
    }
}
