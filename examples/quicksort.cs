#:project ../src/PPSharp/PPSharp.csproj

// quicksort.cs: a PPSharp port of ppft's quicksort.py (Parallel Python, by Vitalii Vanovschi).
// A parallel quicksort: the first levels of the recursion run here and split the input,
// and each of the 2^n sublists left at depth n is sorted by a job in a worker process.
//
// Run from the repository root: dotnet run examples/quicksort.cs [ncpus]

using System.Globalization;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/quicksort.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system

    """);

// A job server with ncpus local workers, or as many as the machine has processors.
using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

Console.WriteLine($"Starting pp with {server.Ncpus} workers");

// A million random numbers from 0 to 100000 (both included, as Python's random.randint).
const int count = 1000000;
var input = new List<int>(count);
for (int i = 0; i < count; i++)
{
    input.Add(Random.Shared.Next(0, 100001));
}

// Set depth to a positive integer to create 2^depth jobs, or to -1 to sort without PPSharp.
// 32 jobs:
const int depth = 5;

List<Piece> outputRaw = ParallelQuicksort(input, depth, server);

var output = new List<int>(count);
foreach (Piece piece in outputRaw)
{
    switch (piece)
    {
        case SortingJob sorting:
            output.AddRange(sorting.Job.Result);
            break;
        case Number number:
            output.Add(number.Value);
            break;
    }
}

Console.WriteLine($"first 30 numbers in increasing order: [{string.Join(", ", output.Take(30))}]");

server.PrintStats();

// Sorts a by quicksort, here, taking a[0] as the pivot. This is what each job runs.
static List<int> Quicksort(List<int> a)
{
    if (a.Count <= 1)
    {
        return a;
    }

    int pivot = a[0];
    List<int> sorted = Quicksort([.. a.Where(x => x < pivot)]);
    sorted.Add(pivot);
    sorted.AddRange(Quicksort([.. a.Skip(1).Where(x => x >= pivot)]));
    return sorted;
}

// Quicksort whose recursion, at depth n, hands each remaining sublist to a job on server.
// Returns the output in order: numbers already in place, and jobs that sort the sublists between them.
static List<Piece> ParallelQuicksort(List<int> a, int n, JobServer server)
{
    if (a.Count <= 1)
    {
        return [.. a.Select(x => new Number(x))];
    }

    if (n == 0)
    {
        return [new SortingJob(server.Submit(Quicksort, a))];
    }

    int pivot = a[0];
    return
    [
        .. ParallelQuicksort([.. a.Where(x => x < pivot)], n - 1, server),
        new Number(pivot),
        .. ParallelQuicksort([.. a.Skip(1).Where(x => x >= pivot)], n - 1, server),
    ];
}

/// <summary>One piece of the parallel quicksort's output.</summary>
internal abstract record Piece;

/// <summary>A number already in its place.</summary>
/// <param name="Value">The number.</param>
internal sealed record Number(int Value) : Piece;

/// <summary>A job that sorts the sublist belonging at this place.</summary>
/// <param name="Job">The job; its result is the sorted sublist.</param>
internal sealed record SortingJob(Job<List<int>> Job) : Piece;
