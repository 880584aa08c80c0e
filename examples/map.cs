#:project ../src/PPSharp/PPSharp.csproj

// map.cs: pathos' map examples (tests/test_mp.py and the "busybeaver" pool example) with a PPSharp job server.
// A blocking map, a lazy ordered map, an unordered map and an asynchronous map of the same function give the same
// results; then a map with a time limit per item, and a cancelled map.
//
// Run from the repository root: dotnet run examples/map.cs [ncpus]

using System.Globalization;
using PPSharp;

using var server = args.Length > 0 ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture)) : new JobServer();
Console.WriteLine($"Starting pp with {server.Ncpus} workers");

// pathos: map(pow, [1,2,3,4], [5,6,7,8]); one item per call here, so the pairs travel as tuples.
(int X, int Y)[] pairs = [(1, 5), (2, 6), (3, 7), (4, 8)];
List<double> expected = [.. pairs.Select(p => Math.Pow(p.X, p.Y))];

List<double> blocking = server.MapToList(Pow, pairs);                    // pool.map
List<double> lazy = [.. server.Map(Pow, pairs)];                          // pool.imap
List<double> unordered = [.. server.MapUnordered(Pow, pairs).Order()];    // pool.uimap
var asynchronous = new List<double>();                                    // pool.amap
await foreach (double value in server.MapAsync(Pow, pairs))
{
    asynchronous.Add(value);
}

Console.WriteLine($"map:   [{string.Join(", ", blocking)}]");
Console.WriteLine($"same results from map, imap, uimap and amap: {blocking.SequenceEqual(expected) && lazy.SequenceEqual(expected) && unordered.SequenceEqual(expected.Order()) && asynchronous.SequenceEqual(expected)}");

// The busybeaver example: ten slow items, results in order, with a progress bar when run in a terminal.
List<long> beavers = server.MapToList(BusyBeaver, Enumerable.Range(0, 10), progress: true);
Console.WriteLine($"busybeaver: [{string.Join(", ", beavers)}]");

// A time limit per item (pathos has none), from a server whose jobs default to one: the endless item fails alone,
// naming its index, and its worker is replaced.
using var limited = new JobServer(new JobServerOptions
{
    Ncpus = server.Ncpus,
    DefaultJobTimeout = TimeSpan.FromSeconds(2),
    CancelGracePeriod = TimeSpan.FromMilliseconds(200),
});
try
{
    foreach (int value in limited.Map(MaybeForever, Enumerable.Range(0, 6), chunkSize: 1))
    {
        Console.WriteLine($"item value {value}");
    }
}
catch (MapItemFailedException e) when (e.InnerException is TimeoutException)
{
    Console.WriteLine($"item {e.Index} ran past its time limit");
}

// A cancelled map: the items still queued never run.
using var cancel = new CancellationTokenSource();
int seen = 0;
try
{
    foreach (long _ in server.Map(BusyBeaver, Enumerable.Range(0, 1000), chunkSize: 1, cancellationToken: cancel.Token))
    {
        if (++seen == 3)
        {
            cancel.Cancel();
        }
    }
}
catch (OperationCanceledException)
{
    Console.WriteLine($"map cancelled after {seen} results");
}

server.PrintStats();

static double Pow((int X, int Y) pair) => Math.Pow(pair.X, pair.Y);

static long BusyBeaver(int x)
{
    long total = x;
    for (int num = 0; num < 1_000_000; num++)
    {
        total += num;
    }

    return total;
}

static int MaybeForever(int x)
{
    while (x == 4)
    {
    }

    return x;
}
