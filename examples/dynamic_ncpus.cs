#:project ../src/PPSharp/PPSharp.csproj

// dynamic_ncpus.cs: a PPSharp port of ppft's dynamic_ncpus.py (Parallel Python, by Vitalii Vanovschi).
// Shows that the number of workers can change while the server runs: the same task is run
// with 1, 2, 4, 8, 16 and again 1 workers, and timed.
// Calculates the partial sum 1 - 1/2 + 1/3 - 1/4 + 1/5 - 1/6 + ... (in the limit it is ln 2).
//
// Run from the repository root: dotnet run examples/dynamic_ncpus.cs
// Like ppft's script it takes no ncpus argument (it sets the number of workers itself) and ignores any.

using System.Diagnostics;
using System.Globalization;
using PPSharp;

Console.WriteLine("Usage: dotnet run examples/dynamic_ncpus.cs");
Console.WriteLine();

const int start = 1;
const int end = 20000000;

// Divides the task into 64 subtasks.
const int parts = 64;
int step = (int)(((double)(end - start) / parts) + 1);

using var server = new JobServer();

// Runs the same task with different numbers of workers, and measures the time.
int[] workerCounts = [1, 2, 4, 8, 16, 1];
foreach (int ncpus in workerCounts)
{
    server.Ncpus = ncpus;
    var jobs = new List<Job<double>>();
    long startTime = Stopwatch.GetTimestamp();
    Console.WriteLine($"Starting pp with {server.Ncpus} workers");
    for (int index = 0; index < parts; index++)
    {
        int starti = start + (index * step);
        int endi = Math.Min(start + ((index + 1) * step), end);

        // Submits PartSum(starti, endi); it starts as soon as a worker is free.
        jobs.Add(server.Submit(PartSum, starti, endi));
    }

    // Retrieves all the results, in order, and adds them up.
    double partSum1 = 0;
    foreach (Job<double> job in jobs)
    {
        partSum1 += job.Result;
    }

    Console.WriteLine($"Partial sum is {PythonFormat.Float(partSum1)} | diff = {PythonFormat.Float(Math.Log(2) - partSum1)}");
    Console.WriteLine($"Time elapsed:  {PythonFormat.Float(Stopwatch.GetElapsedTime(startTime).TotalSeconds)} s");
    Console.WriteLine();
}

server.PrintStats();

// The partial sum of the series over the terms start .. end - 1.
static double PartSum(int start, int end)
{
    double sum = 0;
    for (int x = start; x < end; x++)
    {
        if (x % 2 == 0)
        {
            sum -= 1.0 / x;
        }
        else
        {
            sum += 1.0 / x;
        }
    }

    return sum;
}

/// <summary>Formats numbers the way Python's str() does, so the output reads as ppft's.</summary>
internal static class PythonFormat
{
    /// <summary>Python's repr of a float: the shortest round-trip digits, fixed notation for
    /// exponents from -4 to 15 (always with a fractional part), and otherwise scientific notation
    /// with a two-digit exponent, as in 1e+16 and -2.5e-08.</summary>
    /// <param name="value">The number to format.</param>
    /// <returns>The text Python would print for the same number.</returns>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        string sign = double.IsNegative(value) ? "-" : string.Empty;

        // "R" gives the shortest digits that round-trip, as Python's repr does; only the layout differs.
        string text = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int exponentMark = text.IndexOf('E', StringComparison.Ordinal);
        int exponent = exponentMark < 0 ? 0 : int.Parse(text[(exponentMark + 1)..], CultureInfo.InvariantCulture);
        string mantissa = exponentMark < 0 ? text : text[..exponentMark];
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string allDigits = mantissa.Replace(".", string.Empty, StringComparison.Ordinal);
        string digits = allDigits.TrimStart('0');
        if (digits.Length == 0)
        {
            return sign + "0.0";
        }

        // The decimal exponent of the first significant digit: value = d.ddd * 10^decimalExponent.
        int decimalExponent = (point < 0 ? mantissa.Length : point) - (allDigits.Length - digits.Length) - 1 + exponent;
        digits = digits.TrimEnd('0');

        if (decimalExponent is >= -4 and < 16)
        {
            if (decimalExponent < 0)
            {
                return sign + "0." + new string('0', -decimalExponent - 1) + digits;
            }

            string whole = digits.PadRight(decimalExponent + 1, '0');
            string integerPart = whole[..(decimalExponent + 1)];
            string fraction = whole[(decimalExponent + 1)..];
            return sign + integerPart + "." + (fraction.Length == 0 ? "0" : fraction);
        }

        string scientific = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
        string exponentSign = decimalExponent < 0 ? "-" : "+";
        return sign + scientific + "e" + exponentSign + Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture);
    }
}
