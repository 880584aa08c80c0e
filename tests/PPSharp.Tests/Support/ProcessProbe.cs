namespace PPSharp.Tests.Support;

/// <summary>Checks whether a process exists, by pid, without holding a handle to it.</summary>
public static class ProcessProbe
{
    /// <summary>True while a process with this pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                int close = stat.LastIndexOf(')');
                char state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
                return state is not ('Z' or 'X' or 'x');
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return true;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits, with a bound, for the process to exit. Polling is used only as a bounded wait for an exit
    /// (a pid of a process we did not start cannot be waited on otherwise); it never synchronises a test.
    /// </summary>
    /// <returns>True if the process is gone, false if it still exists when the bound is reached.</returns>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan? bound = null)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan limit = bound ?? Bounds.Hang;
        while (IsAlive(pid))
        {
            if (watch.Elapsed > limit)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Waits, with one shared bound, for all the processes to exit; returns those still alive.</summary>
    public static async Task<IReadOnlyList<int>> WaitForAllToExitAsync(IEnumerable<int> pids, TimeSpan? bound = null)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan limit = bound ?? Bounds.Hang;
        var alive = pids.Distinct().ToList();
        while (true)
        {
            alive = alive.Where(IsAlive).ToList();
            if (alive.Count == 0 || watch.Elapsed > limit)
            {
                return alive;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The parent's pid of a live process, from /proc; null if it is gone (or not on Linux).</summary>
    public static int? ParentOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(after[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Kills, by pid, a process that a test caused to exist and that should be gone (clean-up after a failure).</summary>
    public static void KillIfAlive(int pid)
    {
        if (pid <= 0 || pid == Environment.ProcessId || !IsAlive(pid))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: false);
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}
