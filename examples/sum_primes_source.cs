#:project ../src/PPSharp.Source/PPSharp.Source.csproj

// sum_primes_source.cs: ppft's sum_primes with the function shipped as C# source text (ppft's dill.source path):
// the workers compile it with Roslyn, once each, and run it for every job.
//
// Run from the repository root: dotnet run examples/sum_primes_source.cs [ncpus]

using System.Diagnostics;
using System.Globalization;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/sum_primes_source.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system

    """);

using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

Console.WriteLine($"Starting pp with {server.Ncpus} workers");

// The function and the function it depends on, as text: nothing of them is compiled into this program.
const string isPrime = """
    static bool IsPrime(int n)
    {
        if (n < 2) return false;
        if (n == 2) return true;
        int max = (int)Math.Ceiling(Math.Sqrt(n));
        for (int i = 2; i <= max; i++)
        {
            if (n % i == 0) return false;
        }

        return true;
    }
    """;

var sumPrimes = new SourceFunction<int, long>(
    "static long SumPrimes(int n) => Enumerable.Range(2, Math.Max(0, n - 2)).Where(IsPrime).Sum(x => (long)x);",
    depfuncs: [isPrime],
    modules: ["System.Linq"]);

var start = Stopwatch.StartNew();

// One job first, as in ppft's example.
Job<long> job1 = server.Submit(sumPrimes, 100);
Console.WriteLine($"Sum of primes below 100 is {job1.Result}");

// Then several at once: each worker compiled the source once and reuses it.
int[] inputs = [100000, 100100, 100200, 100300, 100400, 100500, 100600, 100700];
var jobs = inputs.Select(n => (n, job: server.Submit(sumPrimes, n))).ToList();
foreach ((int n, Job<long> job) in jobs)
{
    Console.WriteLine($"Sum of primes below {n} is {job.Result}");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Time elapsed:  {start.Elapsed.TotalSeconds} s"));
server.PrintStats();
