using System.Diagnostics;
using System.Globalization;

namespace PPSharp.Internal;

/// <summary>ppft's job execution statistics table, column for column (<c>print_stats</c>).</summary>
internal static class StatisticsTable
{
    public static void Print(
        TextWriter writer,
        IReadOnlyDictionary<string, (int Count, TimeSpan Time)> rows,
        long createdTimestamp,
        int activeTasks,
        int cores)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        double total = rows.Values.Sum(r => r.Count);
        writer.WriteLine("Job execution statistics:");
        writer.WriteLine(" job count | % of all jobs | job time sum | time per job | job server");
        foreach ((string node, (int count, TimeSpan time)) in rows)
        {
            if (count > 0)
            {
                double seconds = time.TotalSeconds;
                writer.WriteLine(string.Format(c, "    {0,6} |        {1,6:F2} |     {2,8:F4} |  {3,11:F6} | {4}", count, 100.0 * count / total, seconds, seconds / count, node));
            }
        }

        writer.WriteLine(string.Create(c, $"Time elapsed since server creation {(Stopwatch.GetTimestamp() - createdTimestamp) / (double)Stopwatch.Frequency:R}"));
        writer.WriteLine(string.Create(c, $"{activeTasks} active tasks, {cores} cores"));
        writer.WriteLine();
    }
}
