#:project ../src/PPSharp/PPSharp.csproj

// sum_primes.cs: a PPSharp port of ppft's sum_primes.py (Parallel Python, by Vitalii Vanovschi).
// Calculates the sum of the prime numbers below a given integer, in parallel worker processes.
//
// Run from the repository root: dotnet run examples/sum_primes.cs [ncpus]

using System.Globalization;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/sum_primes.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system
    """);

// A job server with ncpus local workers, or as many as the machine has processors.
using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

Console.WriteLine($"Starting pp with {server.Ncpus} workers");

// Submits SumPrimes(100); it starts as soon as a worker is free. Unlike ppft there are no
// dependent functions (IsPrime) or modules ("math") to list: the worker loads this program.
Job<long> job1 = server.Submit(SumPrimes, 100);

// Result is SumPrimes(100); it blocks until the job has finished.
long result = job1.Result;

Console.WriteLine($"Sum of primes below 100 is {result}");

// Submits eight jobs at once, then retrieves their results in order.
int[] inputs = [100000, 100100, 100200, 100300, 100400, 100500, 100600, 100700];
var jobs = inputs.Select(input => (Input: input, Job: server.Submit(SumPrimes, input))).ToList();

foreach (var (input, job) in jobs)
{
    Console.WriteLine($"Sum of primes below {input} is {job.Result}");
}

server.PrintStats();

// True if n is prime.
static bool IsPrime(int n)
{
    if (n < 2)
    {
        return false;
    }

    if (n == 2)
    {
        return true;
    }

    int max = (int)Math.Ceiling(Math.Sqrt(n));
    for (int i = 2; i <= max; i++)
    {
        if (n % i == 0)
        {
            return false;
        }
    }

    return true;
}

// The sum of all primes below n.
static long SumPrimes(int n)
{
    long sum = 0;
    for (int x = 2; x < n; x++)
    {
        if (IsPrime(x))
        {
            sum += x;
        }
    }

    return sum;
}
