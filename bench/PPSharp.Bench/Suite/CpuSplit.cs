using System.Globalization;

namespace PPSharp.Bench.Suite;

/// <summary>
/// CPU time, read from <c>/proc</c>, of the processes a workload runs on: this process (the client), a <c>ppserver</c>
/// if there is one, and every other descendant of this process (the workers, the node's included). Two snapshots
/// around a run say where its CPU went, per job: the figure that, on a machine whose cores the workers fill, decides
/// how much of each core a job gets, and which, unlike a latency, hardly moves when the machine is busy. The
/// benchmark's own sampling of <c>/proc</c> (<see cref="Interference"/>) runs in this process and is taken out of the
/// client's figure. A job that spins on the clock counts wall time, so the workers' CPU per job is below the job's
/// length where something else took their core part of the time.
/// </summary>
internal readonly record struct CpuSplit(double ClientSeconds, double NodeSeconds, double WorkerSeconds)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>The CPU time so far of the client, of the node <paramref name="nodePid"/> (0: none) and of the workers.</summary>
    public static CpuSplit Now(int nodePid = 0)
    {
        int self = Environment.ProcessId;
        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, long>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                (int parent, long cpu, _) = Interference.ParseStat(File.ReadAllText(Path.Combine(dir, "stat")));
                parents[pid] = parent;
                ticks[pid] = cpu;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while being read.
            }
        }

        long client = 0, node = 0, workers = 0;
        foreach ((int pid, long cpu) in ticks)
        {
            if (pid == self)
            {
                client = cpu;
            }
            else if (pid == nodePid)
            {
                node = cpu;
            }
            else if (DescendsFrom(pid, self, parents))
            {
                workers += cpu;
            }
        }

        return new CpuSplit((client / TicksPerSecond) - Interference.SamplingSeconds, node / TicksPerSecond, workers / TicksPerSecond);
    }

    public static CpuSplit operator -(CpuSplit after, CpuSplit before) =>
        new(after.ClientSeconds - before.ClientSeconds, after.NodeSeconds - before.NodeSeconds, after.WorkerSeconds - before.WorkerSeconds);

    private static bool DescendsFrom(int pid, int ancestor, Dictionary<int, int> parents)
    {
        for (int depth = 0; depth < 64 && pid > 1; depth++)
        {
            if (!parents.TryGetValue(pid, out pid))
            {
                return false;
            }

            if (pid == ancestor)
            {
                return true;
            }
        }

        return false;
    }
}
