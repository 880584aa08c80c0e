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
    /// <summary>The CPU time so far of the client, of the node <paramref name="nodePid"/> (0: none) and of the workers.</summary>
    public static CpuSplit Now(int nodePid = 0)
    {
        int self = Environment.ProcessId;
        List<Interference.ProcessStat> processes = Interference.ReadProcesses();
        Dictionary<int, int> parents = processes.ToDictionary(p => p.Pid, p => p.Parent);
        long client = 0, node = 0, workers = 0;
        foreach (Interference.ProcessStat process in processes)
        {
            if (process.Pid == self)
            {
                client = process.CpuTicks;
            }
            else if (process.Pid == nodePid)
            {
                node = process.CpuTicks;
            }
            else if (Interference.DescendsFrom(process.Pid, self, parents))
            {
                workers += process.CpuTicks;
            }
        }

        return new CpuSplit((client / Interference.TicksPerSecond) - Interference.SamplingSeconds, node / Interference.TicksPerSecond, workers / Interference.TicksPerSecond);
    }

    public static CpuSplit operator -(CpuSplit after, CpuSplit before) =>
        new(after.ClientSeconds - before.ClientSeconds, after.NodeSeconds - before.NodeSeconds, after.WorkerSeconds - before.WorkerSeconds);
}
