using System.Globalization;

namespace PPSharp.Bench.Suite;

/// <summary>
/// How much of the machine other programs took while the suite ran: on a shared 2-core machine a build or a test run
/// elsewhere halves every figure, so the suite samples /proc every 250 ms and charges the CPU time of every process
/// that is neither this one nor one of its descendants (workers, ppserver and its workers, echo children). Processes
/// that start and end between two samples are missed, so this is a lower bound. Linux only; elsewhere it reports nothing.
/// </summary>
internal sealed class Interference : IDisposable
{
    public const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly Dictionary<(int Pid, long Start), long> _seen = [];
    private readonly Dictionary<string, long> _byName = [];
    private readonly Dictionary<int, string> _names = [];
    private readonly HashSet<(int Pid, long Start)> _ours = [];
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private readonly int _self = Environment.ProcessId;
    private long _othersTicks;
    private long _markTicks;
    private DateTime _markTime = DateTime.UtcNow;
    private DateTime _startTime = DateTime.UtcNow;

    public Interference()
    {
        Sample(charge: false);
        _timer = new Timer(_ => Sample(charge: true), null, 250, 250);
    }

    private static long s_samplingNanoseconds;

    /// <summary>
    /// The CPU time this process has spent sampling <c>/proc</c> (every sampler's, since it started): part of the
    /// client's CPU in <see cref="CpuSplit"/>, which takes it out, since it is the benchmark's cost, not PPSharp's.
    /// </summary>
    public static double SamplingSeconds => Interlocked.Read(ref s_samplingNanoseconds) / 1e9;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>This thread's CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID), or 0 where there is no such clock.</summary>
    private static long ThreadCpuNanoseconds() =>
        OperatingSystem.IsLinux() && ClockGetTime(3, out TimeSpec time) == 0 ? (time.Seconds * 1_000_000_000) + time.Nanoseconds : 0;

    public bool Available { get; } = Directory.Exists("/proc/self");

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until other programs use less than 5% of the machine over half a second:
    /// <c>dotnet run</c> itself is still winding its build down when the suite starts.
    /// </summary>
    public double Settle(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SinceMark();
        while (clock.Elapsed < limit)
        {
            Thread.Sleep(500);
            if (SinceMark() < 0.05)
            {
                break;
            }
        }

        lock (_gate)
        {
            // The suite's accounting starts now.
            _othersTicks = 0;
            _markTicks = 0;
            _startTime = _markTime = DateTime.UtcNow;
        }

        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The share of the machine (all cores) other programs used since the last mark, in [0, 1].</summary>
    public double SinceMark()
    {
        Sample(charge: true);
        lock (_gate)
        {
            double seconds = (DateTime.UtcNow - _markTime).TotalSeconds;
            double share = (_othersTicks - _markTicks) / TicksPerSecond / Math.Max(0.001, seconds * Environment.ProcessorCount);
            _markTicks = _othersTicks;
            _markTime = DateTime.UtcNow;
            return Math.Clamp(share, 0, 1);
        }
    }

    /// <summary>The share of the machine other programs used since the suite started.</summary>
    public double Total()
    {
        Sample(charge: true);
        lock (_gate)
        {
            double seconds = (DateTime.UtcNow - _startTime).TotalSeconds;
            return Math.Clamp(_othersTicks / TicksPerSecond / Math.Max(0.001, seconds * Environment.ProcessorCount), 0, 1);
        }
    }

    /// <summary>The programs that took the most CPU time since the suite started, for a note under the table.</summary>
    public string TopOthers(int count)
    {
        lock (_gate)
        {
            return string.Join(", ", _byName.OrderByDescending(p => p.Value).Take(count).Where(p => p.Value > 0)
                .Select(p => $"{p.Key}: {p.Value / TicksPerSecond:F1} s"));
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample(bool charge)
    {
        long started = ThreadCpuNanoseconds();
        try
        {
            SampleProc(charge);
        }
        finally
        {
            Interlocked.Add(ref s_samplingNanoseconds, ThreadCpuNanoseconds() - started);
        }
    }

    private void SampleProc(bool charge)
    {
        if (!Available)
        {
            return;
        }

        var parents = new Dictionary<int, int>();
        var times = new Dictionary<(int, long), long>();
        foreach (ProcessStat process in ReadProcesses())
        {
            if (!_names.ContainsKey(process.Pid))
            {
                _names[process.Pid] = NameOf(process);
            }

            parents[process.Pid] = process.Parent;
            times[(process.Pid, process.Start)] = process.CpuTicks;
        }

        lock (_gate)
        {
            foreach (((int pid, long start) key, long cpu) in times)
            {
                // Once ours, always ours: a worker whose parent is killed first is re-parented to init for a moment.
                if (_ours.Contains(key) || IsOurs(key.pid, parents))
                {
                    _ours.Add(key);
                    continue;
                }

                long before = _seen.TryGetValue(key, out long known) ? known : (charge ? 0 : cpu);
                if (charge)
                {
                    _othersTicks += Math.Max(0, cpu - before);
                    string name = $"{_names.GetValueOrDefault(key.pid)} ({key.pid}, parent {parents.GetValueOrDefault(key.pid)})";
                    _byName[name] = _byName.GetValueOrDefault(name) + Math.Max(0, cpu - before);
                }

                _seen[key] = cpu;
            }
        }
    }

    /// <summary>A process as <c>/proc/PID/stat</c> shows it: its parent, its CPU ticks (user + system, every thread's, the dead ones' too) and start time.</summary>
    public readonly record struct ProcessStat(int Pid, string Stat, int Parent, long CpuTicks, long Start);

    /// <summary>Every process running, from <c>/proc</c>; one that ends while being read is left out.</summary>
    public static List<ProcessStat> ReadProcesses()
    {
        var processes = new List<ProcessStat>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                // Fields after the parenthesised command name: state ppid ... utime(14) stime(15) ... starttime(22).
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                processes.Add(new ProcessStat(pid, stat, int.Parse(fields[1], CultureInfo.InvariantCulture),
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                    long.Parse(fields[19], CultureInfo.InvariantCulture)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while being read.
            }
        }

        return processes;
    }

    /// <summary>Whether <paramref name="pid"/> is a child, grandchild, … of <paramref name="ancestor"/>, by the parents in <paramref name="parents"/>.</summary>
    public static bool DescendsFrom(int pid, int ancestor, Dictionary<int, int> parents)
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

    /// <summary>The process's name, and with <c>PPSHARP_BENCH_DEBUG</c> set its command line.</summary>
    private static string NameOf(ProcessStat process)
    {
        string name = process.Stat[(process.Stat.IndexOf('(') + 1)..process.Stat.LastIndexOf(')')];
        if (Environment.GetEnvironmentVariable("PPSHARP_BENCH_DEBUG") is null)
        {
            return name;
        }

        try
        {
            string cmd = File.ReadAllText($"/proc/{process.Pid}/cmdline").Replace('\0', ' ');
            return name + " " + cmd[..Math.Min(cmd.Length, 300)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return name; // The process ended while being read.
        }
    }

    private bool IsOurs(int pid, Dictionary<int, int> parents) => pid == _self || DescendsFrom(pid, _self, parents);
}
