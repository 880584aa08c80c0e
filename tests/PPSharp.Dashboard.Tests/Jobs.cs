namespace PPSharp.Dashboard.Tests;

/// <summary>Functions the tests run in worker processes.</summary>
public static class Jobs
{
    /// <summary>Computes for about <paramref name="milliseconds"/> (real CPU work, so the page shows CPU use).</summary>
    public static long Crunch(int milliseconds)
    {
        var clock = Stopwatch.StartNew();
        long x = 0;
        while (clock.ElapsedMilliseconds < milliseconds)
        {
            for (int i = 0; i < 10_000; i++)
            {
                x = (x * 31) + i;
            }
        }

        return x;
    }

    public static double Ratio(int a, int b) => a / b;
}
