#:project ../src/PPSharp/PPSharp.csproj

// auto_diff.cs: a PPSharp port of ppft's auto_diff.py (Parallel Python, by Vitalii Vanovschi).
// Shows a bound instance method as the job's function: the object it belongs to travels with the job.
// Calculates the partial sums of f(x) = x - x^2/2 + x^3/3 - x^4/4 + ... and their first derivatives
// f'(x) by automatic differentiation. In the limit f(x) = ln(x + 1) and f'(x) = 1/(x + 1).
//
// Run from the repository root: dotnet run examples/auto_diff.cs [ncpus]

using System.Globalization;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/auto_diff.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system

    """);

// A job server with ncpus local workers, or as many as the machine has processors.
using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

Console.WriteLine($"Starting pp with {server.Ncpus} workers");

var proc = new PartialSum(20000);

var results = new List<(double X, Job<AD> Job)>();
for (int i = 0; i < 32; i++)
{
    // A value x = i/32 + 1 with derivative dx = 1.0.
    var adX = new AD(((double)i / 32) + 1, 1.0);

    // Submits proc.TLog(adX): proc itself is serialized and shipped to the worker with the job.
    Job<AD> f = server.Submit(proc.TLog, adX);
    results.Add((adX.X, f));
}

foreach (var (x, f) in results)
{
    // Retrieves the result of the calculation.
    AD val = f.Result;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t_log({x:F6}) = {val.X:F6}, t_log'({x:F6}) = {val.Dx:F6}"));
}

// Prints the execution statistics.
server.PrintStats();

/// <summary>A partial implementation of forward-mode automatic differentiation: a value and its derivative.</summary>
/// <param name="X">The value.</param>
/// <param name="Dx">The derivative of the value.</param>
internal sealed record AD(double X, double Dx = 0.0)
{
    /// <summary>Raises a value to an integer power: (x^n)' = n x^(n-1) x'.</summary>
    /// <param name="n">The exponent.</param>
    /// <returns>The power and its derivative.</returns>
    public AD Pow(int n) => new(Math.Pow(X, n), n * Math.Pow(X, n - 1) * Dx);

    /// <summary>Adds two values.</summary>
    public static AD operator +(AD a, AD b) => new(a.X + b.X, a.Dx + b.Dx);

    /// <summary>Adds a constant.</summary>
    public static AD operator +(AD a, double b) => new(a.X + b, a.Dx);

    /// <summary>Adds a constant.</summary>
    public static AD operator +(double a, AD b) => b + a;

    /// <summary>Subtracts two values.</summary>
    public static AD operator -(AD a, AD b) => new(a.X - b.X, a.Dx - b.Dx);

    /// <summary>Subtracts a constant.</summary>
    public static AD operator -(AD a, double b) => new(a.X - b, a.Dx);

    /// <summary>Multiplies two values: (ab)' = a b' + b a'.</summary>
    public static AD operator *(AD a, AD b) => new(a.X * b.X, (a.X * b.Dx) + (b.X * a.Dx));

    /// <summary>Multiplies by a constant.</summary>
    public static AD operator *(AD a, double b) => new(a.X * b, b * a.Dx);

    /// <summary>Multiplies by a constant.</summary>
    public static AD operator *(double a, AD b) => b * a;

    /// <summary>Divides two values, as a times the reciprocal of b, whose derivative is -b'/b^2.</summary>
    public static AD operator /(AD a, AD b) => a * new AD(1 / b.X, -b.Dx / Math.Pow(b.X, 2));

    /// <summary>Divides by a constant, as multiplication by its reciprocal.</summary>
    public static AD operator /(AD a, double b) => a * (1 / b);

    /// <summary>Divides a constant by a value.</summary>
    public static AD operator /(double a, AD b) => new AD(a) / b;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({X:R}, {Dx:R})");
}

/// <summary>Holds the methods run in parallel: the truncated series of ln(x) with <see cref="N"/> - 1 terms.</summary>
internal sealed class PartialSum
{
    /// <summary>Initializes a new instance of the <see cref="PartialSum"/> class.</summary>
    /// <param name="n">One more than the number of terms of the series.</param>
    public PartialSum(int n) => N = n;

    /// <summary>Gets one more than the number of terms of the series.</summary>
    public int N { get; }

    /// <summary>The truncated natural logarithm of x.</summary>
    /// <param name="x">The argument, with its derivative.</param>
    /// <returns>The truncated ln(x), with its derivative.</returns>
    public AD TLog(AD x) => Series(x - 1);

    /// <summary>The partial sum x - x^2/2 + x^3/3 - ... of the series for ln(x + 1).</summary>
    /// <param name="x">The argument, with its derivative.</param>
    /// <returns>The partial sum, with its derivative.</returns>
    public AD Series(AD x)
    {
        var sum = new AD(0.0);
        for (int i = 1; i < N; i++)
        {
            sum += (i % 2 == 1 ? 1.0 : -1.0) * x.Pow(i) / i;
        }

        return sum;
    }
}
