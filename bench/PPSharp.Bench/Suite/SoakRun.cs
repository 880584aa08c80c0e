using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;

namespace PPSharp.Bench.Suite;

/// <summary>What one soak run does; see <see cref="SoakRun"/>.</summary>
internal sealed record SoakSettings
{
    /// <summary>Jobs in all, warm-up included.</summary>
    public int Jobs { get; init; } = 1_000_000;

    /// <summary>The first jobs, run before the baseline footprint is taken and before any worker is killed.</summary>
    public int WarmupJobs { get; init; } = 20_000;

    /// <summary>At most this many jobs submitted and not yet finished.</summary>
    public int Window { get; init; } = 1_000;

    /// <summary>Kill a local worker this often, after the warm-up (the long run).</summary>
    public TimeSpan? KillEvery { get; init; }

    /// <summary>
    /// Or: kill a local worker when exactly this many jobs have finished, warm-up included (the test: kills at known
    /// points); a mark within the warm-up kills when the main phase starts.
    /// </summary>
    public IReadOnlyList<long>? KillAtFinished { get; init; }

    /// <summary>How long each job spins (0: a job that only records where it ran and returns its value).</summary>
    public int SpinMicroseconds { get; init; }

    /// <summary>The node's process id: never killed (only local workers are).</summary>
    public int? NodePid { get; init; }

    /// <summary>A file the run creates, 4 bytes per job, mapped into every worker: each job writes its worker's pid there when it starts.</summary>
    public required string SlotsPath { get; init; }

    /// <summary>Where progress lines go while the run lasts (every <see cref="ProgressEvery"/>), if anywhere.</summary>
    public TextWriter? Progress { get; init; }

    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>What the client process holds: managed heap after a full collection, threads, open file descriptors, resident memory.</summary>
internal sealed record SoakFootprint(long ManagedBytes, int Threads, int FileDescriptors, long ResidentBytes)
{
    /// <summary>The open descriptors by kind (socket, pipe, anon_inode:[eventfd], a file's path, ...), to tell what grew.</summary>
    public IReadOnlyDictionary<string, int> FileDescriptorKinds { get; init; } = new Dictionary<string, int>();

    public static SoakFootprint Take(bool collect)
    {
        if (collect)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        long managed = GC.GetTotalMemory(forceFullCollection: false);
        int threads = 0;
        long resident = 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        int fds = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            fds++;
            string kind;
            try
            {
                string target = new FileInfo(fd).LinkTarget ?? "?";
                int bracket = target.IndexOf(":[", StringComparison.Ordinal);
                kind = target.StartsWith("anon_inode:", StringComparison.Ordinal) ? target : bracket > 0 ? target[..bracket] : target;
            }
            catch (IOException)
            {
                kind = "?"; // closed while we looked (the enumeration's own descriptor, say)
            }

            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        return new SoakFootprint(managed, threads, fds, resident) { FileDescriptorKinds = kinds };
    }

    /// <summary>The kinds of descriptor whose count differs from <paramref name="before"/>'s, with both counts.</summary>
    public string FileDescriptorChanges(SoakFootprint before) => string.Join(", ",
        FileDescriptorKinds.Keys.Union(before.FileDescriptorKinds.Keys).Order(StringComparer.Ordinal)
            .Where(k => FileDescriptorKinds.GetValueOrDefault(k) != before.FileDescriptorKinds.GetValueOrDefault(k))
            .Select(k => $"{k} {before.FileDescriptorKinds.GetValueOrDefault(k)} -> {FileDescriptorKinds.GetValueOrDefault(k)}"));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"managed {ManagedBytes / 1048576.0:F1} MiB, {Threads} threads, {FileDescriptors} fds, RSS {ResidentBytes / 1048576.0:F0} MiB");
}

/// <summary>What a soak run saw.</summary>
internal sealed record SoakReport
{
    public required int Jobs { get; init; }

    public required int WarmupJobs { get; init; }

    public required int Succeeded { get; init; }

    public required int Failed { get; init; }

    /// <summary>The local workers killed (SIGKILL, by pid), in order.</summary>
    public required IReadOnlyList<int> Killed { get; init; }

    /// <summary>Kill rounds that found no local worker to kill before the run ended (all of them just replaced and not yet seen running a job).</summary>
    public required int KillsSkipped { get; init; }

    /// <summary>Failed jobs that had reached their function on the killed worker the error names (their slot names it too).</summary>
    public required int FailedOnKilledWorker { get; init; }

    /// <summary>
    /// Failed jobs that had not reached their function: the oldest job sent to the killed worker the error names, blamed
    /// as its running job (short jobs do not acknowledge their start, so the client cannot tell).
    /// </summary>
    public required int FailedBeforeStarting { get; init; }

    /// <summary>Every broken property, in words; empty when the run was right.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>Jobs per place ("local", the node's address), from the jobs themselves.</summary>
    public required IReadOnlyDictionary<string, int> ByPlace { get; init; }

    public required SoakFootprint Warm { get; init; }

    public required SoakFootprint End { get; init; }

    /// <summary>
    /// The smallest managed heap seen after a full collection, at the warm-up or at a progress line: the baseline of the
    /// heap's growth. (Right after the warm-up the heap still holds pooled buffers from uploading the code to the node,
    /// which the pools give back a minute later; the smallest figure is the steady one.)
    /// </summary>
    public required long ManagedFloor { get; init; }

    /// <summary>The main phase (after warm-up), kills included.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>How the footprint grew beyond the bounds given, in words; empty when it stayed within them.</summary>
    public IReadOnlyList<string> Growth(int fileDescriptors, int threads, long managedBytes)
    {
        var growth = new List<string>();
        if (End.FileDescriptors - Warm.FileDescriptors > fileDescriptors)
        {
            growth.Add($"open file descriptors grew from {Warm.FileDescriptors} to {End.FileDescriptors} (bound +{fileDescriptors})");
        }

        if (End.Threads - Warm.Threads > threads)
        {
            growth.Add($"threads grew from {Warm.Threads} to {End.Threads} (bound +{threads})");
        }

        if (End.ManagedBytes - ManagedFloor > managedBytes)
        {
            growth.Add(string.Create(CultureInfo.InvariantCulture,
                $"the managed heap grew from {ManagedFloor / 1048576.0:F1} MiB (its smallest) to {End.ManagedBytes / 1048576.0:F1} MiB (bound +{managedBytes / 1048576.0:F0} MiB)"));
        }

        return growth;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"""
        {Jobs:N0} jobs: {Succeeded:N0} succeeded, {Failed:N0} failed; {Killed.Count} local workers killed ({KillsSkipped} kill rounds found none before the end)
        failed jobs, each on a different killed worker: {FailedOnKilledWorker} running there, {FailedBeforeStarting} started there but killed before reaching the function
        where: {string.Join(", ", ByPlace.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value:N0}"))}
        main phase: {Jobs - WarmupJobs:N0} jobs in {Elapsed.TotalSeconds:F1} s ({(Jobs - WarmupJobs) / Math.Max(Elapsed.TotalSeconds, 1e-9):N0} jobs/s, kills included)
        after warm-up: {Warm}
        at the end:    {End}
        managed heap's floor (after full collections, warm-up and progress lines): {ManagedFloor / 1048576.0:F1} MiB
        descriptors that changed: {(End.FileDescriptorChanges(Warm) is { Length: > 0 } changes ? changes : "none")}
        problems: {(Problems.Count == 0 ? "none" : string.Join("; ", Problems))}
        """);
}

/// <summary>
/// The soak: many short jobs through a job server's local workers and a node, a bounded number in flight, while local
/// workers are killed (SIGKILL, by pid); every job runs with <c>Retries = 0</c>. It checks that each job finished once
/// (one <c>JobFinished</c>, one callback if it succeeded, with the right value), that every failure is a
/// <see cref="WorkerCrashedException"/> for a SIGKILL of a local worker, on a worker that was killed, at most one per
/// kill (a worker runs one job at a time; the jobs it held ahead are rescheduled, not failed), and it takes the client's
/// footprint after the warm-up and at the end. Used by <c>PPSharp.Bench soak</c> (the long run) and by the test suite
/// (a short one).
/// </summary>
internal static partial class SoakRun
{
    private const int SigkillExitCode = 128 + 9;

    private static readonly ConcurrentDictionary<string, MemoryMappedViewAccessor> Views = new(StringComparer.Ordinal);

    /// <summary>The worker a <see cref="WorkerCrashedException"/> names: "The worker process PID running job ...".</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"worker process (\d+) ")]
    private static partial System.Text.RegularExpressions.Regex NamedWorker();

    /// <summary>The job's value, which the client checks.</summary>
    public static long Expected(int number) => unchecked((number * 2654435761L) ^ 0x5bd1e995L);

    /// <summary>The job: notes its worker's pid in its slot, spins, returns its value.</summary>
    public static long Work(int number, string slotsPath, int spinMicroseconds)
    {
        MemoryMappedViewAccessor view = Views.GetOrAdd(slotsPath, OpenView);
        view.Write(number * 4L, Environment.ProcessId);
        if (spinMicroseconds > 0)
        {
            long end = Stopwatch.GetTimestamp() + (spinMicroseconds * Stopwatch.Frequency / 1_000_000);
            while (Stopwatch.GetTimestamp() < end)
            {
            }
        }

        return Expected(number);
    }

    /// <summary>A job that only says where it ran: used to learn which local workers are alive.</summary>
    public static int WorkerPid() => Environment.ProcessId;

    public static SoakReport Run(JobServer server, SoakSettings settings)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Jobs <= settings.WarmupJobs || settings.WarmupJobs < 0 || settings.Window < 1)
        {
            throw new ArgumentException("the soak needs more jobs than warm-up jobs, and a window of at least 1", nameof(settings));
        }

        using (var file = new FileStream(settings.SlotsPath, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            file.SetLength(settings.Jobs * 4L);
        }

        MemoryMappedViewAccessor slots = Views.GetOrAdd(settings.SlotsPath, OpenView);
        try
        {
            return new Soak(server, settings, slots).Run();
        }
        finally
        {
            if (Views.TryRemove(settings.SlotsPath, out MemoryMappedViewAccessor? view))
            {
                view.Dispose();
            }
        }
    }

    private static MemoryMappedViewAccessor OpenView(string path)
    {
        using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        return file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
    }

    /// <summary>One run's state.</summary>
    private sealed class Soak(JobServer server, SoakSettings settings, MemoryMappedViewAccessor slots)
    {
        private const int MaxProblems = 50;

        /// <summary>Room in the id table for jobs that only learn worker pids (probes), besides the soak's own.</summary>
        private const int ProbeCapacity = 1 << 16;

        private readonly int _jobs = settings.Jobs;
        private readonly int[] _finished = new int[settings.Jobs];
        private readonly int[] _callbacks = new int[settings.Jobs];
        private readonly byte[] _outcome = new byte[settings.Jobs]; // 1 succeeded, 2 failed
        private readonly int[] _numberOfId = new int[settings.Jobs + ProbeCapacity]; // by id - _baseId: job number + 1, or 0 for a probe
        private readonly Lock _submitting = new();
        private readonly ConcurrentQueue<(int Number, Exception? Error, string? Node)> _failures = new();
        private readonly ConcurrentQueue<string> _problems = new();
        private readonly ConcurrentDictionary<int, byte> _localWorkers = new();
        private readonly ConcurrentDictionary<string, int> _byPlace = new(StringComparer.Ordinal);
        private readonly List<int> _killed = [];
        private readonly SemaphoreSlim _window = new(settings.Window);
        private readonly SemaphoreSlim _killSignal = new(0);
        private readonly CancellationTokenSource _stopKilling = new();
        private readonly JobOptions _noRetries = new() { Retries = 0 };
        private int _problemCount;
        private int _killsSkipped;
        private long _done;
        private long _baseId = -1; // the id of the first job this run submitted
        private long _lastId;
        private long _managedFloor = long.MaxValue;

        public SoakReport Run()
        {
            server.JobFinished += OnFinished;
            try
            {
                lock (_submitting)
                {
                    _lastId = _baseId = server.Submit(WorkerPid).Id;
                }

                LearnLocalWorkers();

                // Warm-up: the first jobs, no kill; then the baseline, with the pool at full strength and nothing in flight.
                SubmitAll(0, settings.WarmupJobs);
                server.Wait();
                SoakFootprint warm = Settle();
                settings.Progress?.WriteLine($"after warm-up ({settings.WarmupJobs:N0} jobs): {warm}");

                var clock = Stopwatch.StartNew();
                var killer = new Thread(KillLoop) { IsBackground = true, Name = "soak killer" };
                killer.Start();
                Timer? progress = settings.Progress is null ? null : new Timer(_ => Report(clock), null, settings.ProgressEvery, settings.ProgressEvery);
                try
                {
                    SubmitAll(settings.WarmupJobs, _jobs - settings.WarmupJobs);
                    server.Wait();
                    if (settings.KillAtFinished is null)
                    {
                        _stopKilling.Cancel(); // kills on a clock: the run is over
                    }

                    // Kills at marks: every mark has been reached; the killer ends after its last kill.
                    if (!killer.Join(TimeSpan.FromMinutes(2)))
                    {
                        Problem("the killer did not finish its kills within 2 minutes of the last job");
                        _stopKilling.Cancel();
                        killer.Join();
                    }
                }
                finally
                {
                    if (progress is not null)
                    {
                        using var stopped = new ManualResetEvent(false);
                        if (progress.Dispose(stopped))
                        {
                            stopped.WaitOne(); // no progress line after this
                        }
                    }
                }

                TimeSpan elapsed = clock.Elapsed;
                SoakFootprint end = Settle();
                return Verdict(warm, end, elapsed);
            }
            finally
            {
                server.JobFinished -= OnFinished;
                _stopKilling.Cancel();
                _window.Dispose();
                _killSignal.Dispose();
                _stopKilling.Dispose();
            }
        }

        /// <summary>Submits jobs first … first + count - 1, at most a window of them unfinished at a time.</summary>
        private void SubmitAll(int first, int count)
        {
            for (int number = first; number < first + count; number++)
            {
                _window.Wait();
                int n = number;
                Submit(n, () => server.Submit(Work, n, settings.SlotsPath, settings.SpinMicroseconds, result => OnResult(n, result), options: _noRetries));
            }
        }

        /// <summary>Submits a job that only says which worker ran it.</summary>
        private Job<int> SubmitProbe() => Submit(-1, () => server.Submit(WorkerPid));

        /// <summary>
        /// Submits one job (every job of this run goes through here, one at a time): its id is the next one, so the job's
        /// number is in the id table before the job exists, and its JobFinished (which may come before Submit returns)
        /// finds it.
        /// </summary>
        private TJob Submit<TJob>(int number, Func<TJob> submit)
            where TJob : Job
        {
            lock (_submitting)
            {
                long id = _lastId + 1;
                long index = id - _baseId;
                if (index >= _numberOfId.Length)
                {
                    throw new InvalidOperationException($"more than {ProbeCapacity} probe jobs: the id table is full");
                }

                Volatile.Write(ref _numberOfId[index], number + 1);
                TJob job = submit();
                if (job.Id != id)
                {
                    throw new InvalidOperationException($"a job got id {job.Id}, not {id}: something else submits to this job server");
                }

                _lastId = id;
                return job;
            }
        }

        private int? NumberOf(long id)
        {
            long index = id - Volatile.Read(ref _baseId);
            int entry = index >= 0 && index < _numberOfId.Length && _baseId >= 0 ? Volatile.Read(ref _numberOfId[index]) : 0;
            return entry > 0 ? entry - 1 : null; // 0: a probe, or a job of no one's (the first probe's JobFinished may come first)
        }

        private void OnResult(int number, long result)
        {
            if (Interlocked.Increment(ref _callbacks[number]) != 1)
            {
                Problem($"job {number}: its callback ran again");
            }

            if (result != Expected(number))
            {
                Problem($"job {number}: result {result}, expected {Expected(number)}");
            }
        }

        private void OnFinished(object? sender, JobFinishedEventArgs e)
        {
            if (NumberOf(e.Job.Id) is not { } number)
            {
                return;
            }

            if (Interlocked.Increment(ref _finished[number]) != 1)
            {
                Problem($"job {number}: JobFinished raised again");
                return;
            }

            string place = e.Job.Node ?? "?";
            if (e.Succeeded)
            {
                _outcome[number] = 1;
                _byPlace.AddOrUpdate(place, 1, (_, n) => n + 1);
                if (place == "local" && slots.ReadInt32(number * 4L) is > 0 and int pid)
                {
                    _localWorkers.TryAdd(pid, 0);
                }
            }
            else
            {
                _outcome[number] = 2;
                _failures.Enqueue((number, e.Exception, e.Job.Node));
            }

            long done = Interlocked.Increment(ref _done);
            if (settings.KillAtFinished is { } marks && marks.Contains(done))
            {
                _killSignal.Release();
            }

            _window.Release();
        }

        /// <summary>Kills a local worker at each mark (then ends), or at each period until the run is over.</summary>
        private void KillLoop()
        {
            try
            {
                for (int round = 0; ; round++)
                {
                    if (settings.KillEvery is { } period)
                    {
                        if (_stopKilling.Token.WaitHandle.WaitOne(period))
                        {
                            return;
                        }
                    }
                    else if (settings.KillAtFinished is { } marks && round < marks.Count)
                    {
                        _killSignal.Wait(_stopKilling.Token);
                    }
                    else
                    {
                        return;
                    }

                    KillOne();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>
        /// Kills a local worker seen running a job. If none is known alive (the last ones killed, their replacements not
        /// yet seen), runs small batches of probe jobs until one answers; the round is skipped only if the run ends first.
        /// </summary>
        private void KillOne()
        {
            int[] candidates;
            while ((candidates = [.. _localWorkers.Keys.Where(IsOurLiveChild)]).Length == 0)
            {
                if (_stopKilling.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _killsSkipped);
                    return;
                }

                Job<int>[] probes = [.. Enumerable.Range(0, 2 * Math.Max(1, server.Ncpus)).Select(_ => SubmitProbe())];
                foreach (Job<int> probe in probes)
                {
                    if (Answer(probe) is { } pid && probe.Node == "local" && IsOurLiveChild(pid))
                    {
                        _localWorkers.TryAdd(pid, 0);
                    }
                }
            }

            int victim = candidates[Random.Shared.Next(candidates.Length)];
            try
            {
                using Process process = Process.GetProcessById(victim);
                process.Kill(); // SIGKILL
                lock (_killed)
                {
                    _killed.Add(victim);
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                Interlocked.Increment(ref _killsSkipped); // it ended meanwhile
            }

            _localWorkers.TryRemove(victim, out _);
        }

        /// <summary>A live (not zombie) child of this process that is not the node.</summary>
        private bool IsOurLiveChild(int pid)
        {
            if (pid == settings.NodePid)
            {
                return false;
            }

            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return fields[0] is not ("Z" or "X") && int.Parse(fields[1], CultureInfo.InvariantCulture) == Environment.ProcessId;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                return false;
            }
        }

        /// <summary>
        /// Runs small batches of jobs until every local worker has answered one (so a worker that replaced a killed one is
        /// up and connected), then takes the footprint after a full collection.
        /// </summary>
        private SoakFootprint Settle()
        {
            LearnLocalWorkers();
            return SoakFootprint.Take(collect: true);
        }

        private void LearnLocalWorkers()
        {
            int wanted = server.Ncpus;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                Job<int>[] batch = [.. Enumerable.Range(0, 20 * Math.Max(1, wanted)).Select(_ => SubmitProbe())];
                var seen = new HashSet<int>();
                foreach (Job<int> job in batch)
                {
                    if (Answer(job) is { } pid && job.Node == "local" && IsOurLiveChild(pid))
                    {
                        seen.Add(pid);
                        _localWorkers.TryAdd(pid, 0);
                    }
                }

                if (seen.Count >= wanted)
                {
                    return;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(2))
                {
                    Problem($"only {seen.Count} of {wanted} local workers answered within 2 minutes");
                    return;
                }
            }
        }

        /// <summary>
        /// A probe's answer; null if it failed: a probe sent to a worker just killed, before its death was noticed, is
        /// blamed as that worker's running job (and a probe is not one of the soak's jobs, so it is not counted).
        /// </summary>
        private static int? Answer(Job<int> probe)
        {
            try
            {
                return probe.Result;
            }
            catch (WorkerCrashedException)
            {
                return null;
            }
        }

        private void Report(Stopwatch clock)
        {
            SoakFootprint now = SoakFootprint.Take(collect: true);
            long floor;
            while (now.ManagedBytes < (floor = Interlocked.Read(ref _managedFloor)) && Interlocked.CompareExchange(ref _managedFloor, now.ManagedBytes, floor) != floor)
            {
            }

            long done = Interlocked.Read(ref _done);
            int killed;
            lock (_killed)
            {
                killed = _killed.Count;
            }

            settings.Progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{clock.Elapsed.TotalSeconds,6:F0} s  {done,10:N0} of {_jobs:N0} jobs  {killed,4} killed  {_failures.Count,4} failed  {now}"));
        }

        private void Problem(string what)
        {
            if (Interlocked.Increment(ref _problemCount) <= MaxProblems)
            {
                _problems.Enqueue(what);
            }
        }

        private SoakReport Verdict(SoakFootprint warm, SoakFootprint end, TimeSpan elapsed)
        {
            int[] killed;
            lock (_killed)
            {
                killed = [.. _killed];
            }

            int succeeded = 0, failed = 0;
            for (int i = 0; i < _jobs; i++)
            {
                if (_finished[i] == 0)
                {
                    Problem($"job {i}: never finished (lost)");
                }
                else if (_outcome[i] == 1)
                {
                    succeeded++;
                    if (_callbacks[i] != 1)
                    {
                        Problem($"job {i}: succeeded with {_callbacks[i]} callbacks");
                    }
                }
                else
                {
                    failed++;
                    if (_callbacks[i] != 0)
                    {
                        Problem($"job {i}: failed, yet its callback ran");
                    }
                }
            }

            // Every failure: the job a local worker held when it was killed (SIGKILL, by this run), at most one per kill.
            // The worker is named twice: by the error ("The worker process PID running job ..."), and by the job's slot if
            // the job had reached its function. Only a job the worker said it started is blamed (an unacknowledged short
            // job runs again, acknowledged); its slot can still be empty if the kill came between the start and the
            // function's first line.
            var killedSet = killed.ToHashSet();
            var blamed = new HashSet<int>();
            int onKilled = 0, beforeStarting = 0;
            foreach ((int number, Exception? error, string? node) in _failures)
            {
                if (error is not WorkerCrashedException crash)
                {
                    Problem($"job {number} failed with {error?.GetType().Name}: {error?.Message}");
                    continue;
                }

                if (node != "local" || crash.ExitCode != SigkillExitCode)
                {
                    Problem($"job {number} failed on {node} with exit code {crash.ExitCode}, not on a local worker killed by SIGKILL: {crash.Message}");
                    continue;
                }

                int slot = slots.ReadInt32(number * 4L);
                System.Text.RegularExpressions.Match named = NamedWorker().Match(crash.Message);
                int worker = named.Success ? int.Parse(named.Groups[1].Value, CultureInfo.InvariantCulture) : slot;
                if (!killedSet.Contains(worker))
                {
                    Problem($"job {number} failed on worker {worker}, which this run did not kill: {crash.Message}");
                }
                else if (slot != 0 && slot != worker)
                {
                    Problem($"job {number} failed as worker {worker}'s, but it had started on worker {slot}: {crash.Message}");
                }
                else if (!blamed.Add(worker))
                {
                    Problem($"job {number} is a second failure on killed worker {worker}: a worker runs one job at a time");
                }
                else if (slot == worker)
                {
                    onKilled++;
                }
                else
                {
                    beforeStarting++;
                }
            }

            if (failed > killed.Length)
            {
                Problem($"{failed} jobs failed but only {killed.Length} workers were killed");
            }

            return new SoakReport
            {
                Jobs = _jobs,
                WarmupJobs = settings.WarmupJobs,
                Succeeded = succeeded,
                Failed = failed,
                Killed = killed,
                KillsSkipped = _killsSkipped,
                FailedOnKilledWorker = onKilled,
                FailedBeforeStarting = beforeStarting,
                Problems = [.. _problems],
                ByPlace = new Dictionary<string, int>(_byPlace, StringComparer.Ordinal),
                Warm = warm,
                End = end,
                Elapsed = elapsed,
                ManagedFloor = Math.Min(warm.ManagedBytes, Interlocked.Read(ref _managedFloor)),
            };
        }
    }
}
