using System.Diagnostics;

namespace PPSharp.Bench.Suite;

/// <summary>Mean, median and 99th percentile of a set of durations, in microseconds.</summary>
internal sealed record Stats(double MeanMicros, double MedianMicros, double P99Micros, int Count)
{
    public double MedianSeconds => MedianMicros / 1e6;

    public static Stats FromTimestamps(long[] samples)
    {
        double[] micros = [.. samples.Select(s => s * 1e6 / Stopwatch.Frequency)];
        Array.Sort(micros);
        return new Stats(micros.Average(), Percentile(micros, 0.5), Percentile(micros, 0.99), micros.Length);
    }

    private static double Percentile(double[] sorted, double p)
    {
        double at = p * (sorted.Length - 1);
        int low = (int)Math.Floor(at);
        int high = Math.Min(sorted.Length - 1, low + 1);
        return sorted[low] + ((sorted[high] - sorted[low]) * (at - low));
    }
}
