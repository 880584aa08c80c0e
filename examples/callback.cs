#:project ../src/PPSharp/PPSharp.csproj

// callback.cs: a PPSharp port of ppft's callback.py (Parallel Python, by Vitalii Vanovschi).
// Shows callbacks: each job's result is handed to a method of this process as soon as the job ends.
// Calculates the partial sum 1 - 1/2 + 1/3 - 1/4 + 1/5 - 1/6 + ... (in the limit it is ln 2).
//
// Run from the repository root: dotnet run examples/callback.cs [ncpus]

using System.Globalization;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/callback.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system

    """);

const int start = 1;
const int end = 20000000;

// Divides the task into 128 subtasks.
const int parts = 128;
int step = (int)(((double)(end - start) / parts) + 1);

// A job server with ncpus local workers, or as many as the machine has processors.
using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

Console.WriteLine($"Starting pp with {server.Ncpus} workers");

// The object whose Add method receives every job's result.
var sum = new Sum();

for (int index = 0; index < parts; index++)
{
    int starti = start + (index * step);
    int endi = Math.Min(start + ((index + 1) * step), end);

    // Submits PartSum(starti, endi); when it is done, sum.Add gets its result in this process.
    _ = server.Submit(PartSum, starti, endi, callback: sum.Add);
}

// Waits for the jobs of all groups, and for their callbacks, to finish.
server.Wait();

Console.WriteLine($"Partial sum is {PythonFormat.Float(sum.Value)} | diff = {PythonFormat.Float(Math.Log(2) - sum.Value)}");

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

/// <summary>Accumulates the jobs' results; its <see cref="Add"/> method is the callback.</summary>
internal sealed class Sum
{
    // PPSharp runs callbacks one at a time, but a lock keeps Add safe wherever it is called from
    // (ppft's Sum needs its lock, because += on a shared value is not atomic).
    private readonly Lock gate = new();
    private double value;

    /// <summary>Gets the sum of the values added so far.</summary>
    public double Value
    {
        get
        {
            lock (gate)
            {
                return value;
            }
        }
    }

    /// <summary>The callback: adds one job's result.</summary>
    /// <param name="value">The job's partial sum.</param>
    public void Add(double value)
    {
        lock (gate)
        {
            this.value += value;
        }
    }
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
