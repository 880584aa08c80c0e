using System.ComponentModel;
using System.Diagnostics;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Remote;

/// <summary>
/// A node's answer to its clients' pings: what its worker processes use now (<see cref="Messages.NodeLoad"/>). One
/// reading serves every client for <see cref="MaxAge"/>, so many clients pinging cost no more than one.
/// </summary>
internal sealed class NodeLoadSampler(Scheduler scheduler)
{
    /// <summary>How long one reading is reused: clients ping every few seconds each, and /proc is read at most this often.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private Messages.NodeLoad? _last;

    /// <summary>The latest reading, taken now if the last one is older than <see cref="MaxAge"/>.</summary>
    public Messages.NodeLoad Current()
    {
        lock (_gate)
        {
            long now = Environment.TickCount64;
            if (_last is null || now - _last.SampledAtMilliseconds >= MaxAge.TotalMilliseconds)
            {
                _last = Sample(now);
            }

            return _last;
        }
    }

    private Messages.NodeLoad Sample(long now)
    {
        ExecutorSnapshot[] workers = [.. scheduler.Observe().Executors.Where(e => e.ProcessId > 0).OrderBy(e => e.ProcessId)];
        var listed = new List<Messages.WorkerLoad>(Math.Min(workers.Length, Messages.NodeLoad.MaxWorkers));
        foreach (ExecutorSnapshot worker in workers.Take(Messages.NodeLoad.MaxWorkers))
        {
            try
            {
                using var process = Process.GetProcessById(worker.ProcessId);
                listed.Add(new Messages.WorkerLoad(worker.ProcessId, process.WorkingSet64, process.TotalProcessorTime.Ticks, worker.InFlight > 0));
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Win32Exception)
            {
                // It has just exited (it is being replaced): left out of this reading.
            }
        }

        return new Messages.NodeLoad(now, workers.Length, listed);
    }
}
