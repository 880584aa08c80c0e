using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PPSharp.Slurm;

/// <summary>
/// PPSharp nodes as Slurm batch jobs: each job runs one <c>ppserver</c> with <see cref="SlurmClusterOptions.CpusPerJob"/>
/// workers. Give a <see cref="JobServer"/> the cluster's <see cref="PpServers"/> and <see cref="Secret"/>; it takes in
/// each node as its job starts, and drops it as its job ends (scaled down, cancelled, out of time, preempted), running
/// that node's unfinished jobs elsewhere.
/// </summary>
/// <example>
/// <code>
/// await using var cluster = await SlurmCluster.StartAsync(new SlurmClusterOptions { Jobs = 4, CpusPerJob = 32 });
/// using var server = new JobServer(0, ppservers: cluster.PpServers, secret: cluster.Secret);
/// await cluster.ScaleAsync(8);
/// </code>
/// </example>
/// <remarks>
/// <para>How a node is found: the batch script (<see cref="JobScript"/>) starts <c>ppserver -p 0</c>, which picks a
/// free port, so any number of nodes, this user's or others', can share a host. Once it listens it writes
/// "HOST:PORT" to a file named after its job in the cluster's <c>nodes</c> directory, on the shared file system the
/// client also sees (a login node included); <see cref="PpServers"/> is a single <c>dir:</c> entry that makes the
/// job server watch that directory. No port is fixed in advance and nothing has to reach the client.</para>
/// <para>The secret is fresh for each cluster and reaches the nodes through a file readable by this user only
/// (mode 0600), read by the script into the node's environment: it is on no command line, so neither <c>ps</c> nor
/// <c>squeue</c> shows it. The nodes run the <c>ppserver</c> installed beside this assembly, so a shared file system is
/// all the compute hosts need.</para>
/// <para><see cref="ScaleAsync"/> and <see cref="DisposeAsync"/> may be called from any thread; they run one at a time.</para>
/// </remarks>
public sealed class SlurmCluster : IAsyncDisposable
{
    /// <summary>The most CPUs one job's node takes (the most workers one <c>ppserver</c> starts).</summary>
    public const int MaxCpusPerJob = 1024;

    /// <summary>How often Slurm and the nodes directory are polled while waiting.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly SlurmCommands _slurm;
    private readonly ClusterFiles _files;
    private readonly TimeSpan _stopTimeout;
    private readonly KeyValuePair<string, string>[] _environment;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _jobs;
    private int _disposed;

    private SlurmCluster(SlurmClusterOptions options, string jobName, ClusterFiles files, string secret, string script)
    {
        _slurm = new SlurmCommands(options.SlurmCommandTimeout);
        _files = files;
        _stopTimeout = options.StopTimeout;
        _environment = [.. options.JobEnvironment];
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("PPSharp.Slurm");
        JobName = jobName;
        Secret = secret;
        JobScript = script;
        PpServers = [$"dir:{files.Nodes}"];
    }

    /// <summary>
    /// The entries to pass as a <see cref="JobServer"/>'s <c>ppservers</c>: one <c>dir:</c> entry naming the directory
    /// the nodes report their addresses in, which follows the cluster as jobs start and end.
    /// </summary>
    public IReadOnlyList<string> PpServers { get; }

    /// <summary>The secret the nodes were started with: random, fresh for this cluster. Pass it to the <see cref="JobServer"/>.</summary>
    public string Secret { get; }

    /// <summary>The batch script every job of this cluster runs, as submitted with <c>sbatch</c>: print it to check it.</summary>
    public string JobScript { get; }

    /// <summary>The Slurm job name all of this cluster's jobs carry (<c>squeue --name</c>), unique to the cluster.</summary>
    public string JobName { get; }

    /// <summary>The cluster's own directory on the shared file system (script, secret, address files, job logs); removed at dispose.</summary>
    public string Directory => _files.Root;

    /// <summary>The number of jobs last asked for (<see cref="SlurmClusterOptions.Jobs"/>, then <see cref="ScaleAsync"/>).</summary>
    public int Jobs => Volatile.Read(ref _jobs);

    /// <summary>
    /// Submits <see cref="SlurmClusterOptions.Jobs"/> jobs and returns once Slurm has accepted them (not once they run:
    /// a job may wait in the queue; the job server takes each node in when it starts, see <see cref="WaitForNodesAsync"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range or malformed; the message names it.</exception>
    /// <exception cref="SlurmException">Slurm refused the job or could not be reached; nothing is left behind.</exception>
    /// <exception cref="PlatformNotSupportedException">On Windows.</exception>
    public static async Task<SlurmCluster> StartAsync(SlurmClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        string jobName = $"{options.JobName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string workDirectory = options.WorkDirectory
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ppsharp", "slurm");
        var files = new ClusterFiles(Path.Combine(Path.GetFullPath(workDirectory), jobName));
        string script = Slurm.JobScript.Build(options, jobName, files, options.PpServerCommand ?? DefaultPpServerCommand(), RandomNumberGenerator.GetBytes(16));

        CreateFiles(files, secret, script);
        var cluster = new SlurmCluster(options, jobName, files, secret, script);
        try
        {
            await cluster.ScaleAsync(options.Jobs, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    /// <summary>
    /// Runs <paramref name="jobs"/> jobs from now on: submits more, or cancels some (those still waiting in the queue
    /// first, then the newest). Jobs Slurm ended by itself (time limit, preemption, <c>scancel</c> by hand) are not
    /// counted, so scaling to the same number again replaces them. A cancelled node tells its clients it is leaving,
    /// and they run its unfinished jobs elsewhere.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="jobs"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The cluster was disposed.</exception>
    /// <exception cref="SlurmException">A Slurm command failed.</exception>
    public async Task ScaleAsync(int jobs, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(jobs);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            Volatile.Write(ref _jobs, jobs);
            var live = (await _slurm.ListAsync(JobName, cancellationToken).ConfigureAwait(false))
                .Where(j => j.State != "CG") // completing: already on its way out
                .ToList();
            RemoveStaleAddressFiles(live.Select(j => j.Id));
            for (int i = live.Count; i < jobs; i++)
            {
                string id = await _slurm.SubmitAsync(SbatchOptions(), _files.Script, _environment, cancellationToken).ConfigureAwait(false);
                SlurmLog.Submitted(_logger, id, JobName);
            }

            if (live.Count > jobs)
            {
                string[] victims = [.. live
                    .OrderByDescending(j => j.State == "PD")
                    .ThenByDescending(j => long.Parse(j.Id, NumberStyles.None, CultureInfo.InvariantCulture))
                    .Take(live.Count - jobs)
                    .Select(j => j.Id)];
                await _slurm.CancelAsync(victims, cancellationToken).ConfigureAwait(false);
                SlurmLog.Cancelled(_logger, string.Join(' ', victims), JobName);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The Slurm job ids of this cluster that are waiting or running (not those on their way out).</summary>
    /// <exception cref="SlurmException">squeue failed.</exception>
    public async Task<IReadOnlyList<string>> GetJobIdsAsync(CancellationToken cancellationToken = default) =>
        [.. (await _slurm.ListAsync(JobName, cancellationToken).ConfigureAwait(false)).Where(j => j.State != "CG").Select(j => j.Id)];

    /// <summary>The nodes that have reported their address and not yet removed it: job id to "HOST:PORT".</summary>
    public IReadOnlyDictionary<string, string> GetNodes()
    {
        var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (string file in System.IO.Directory.EnumerateFiles(_files.Nodes))
            {
                string name = Path.GetFileName(file);
                if (!name.EndsWith(".tmp", StringComparison.Ordinal) && TryRead(file) is { Length: > 0 } address)
                {
                    nodes[name] = address;
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // disposed: no nodes
        }

        return nodes;
    }

    /// <summary>Waits until at least <paramref name="count"/> nodes have reported their address (see <see cref="GetNodes"/>).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task WaitForNodesAsync(int count, CancellationToken cancellationToken = default)
    {
        using var timer = new PeriodicTimer(PollInterval);
        while (GetNodes().Count < count)
        {
            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cancels every job of the cluster (<c>scancel</c>), waits until Slurm lists none of them (at most
    /// <see cref="SlurmClusterOptions.StopTimeout"/>; jobs still listed then are logged), and removes the cluster's
    /// directory. Never throws for Slurm's sake: a failure is logged.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            using var bounded = new CancellationTokenSource(_stopTimeout);
            IReadOnlyList<(string Id, string State)> left = await _slurm.ListAsync(JobName, bounded.Token).ConfigureAwait(false);
            await _slurm.CancelAsync([.. left.Select(j => j.Id)], bounded.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(PollInterval);
            while (left.Count > 0)
            {
                await timer.WaitForNextTickAsync(bounded.Token).ConfigureAwait(false);
                left = await _slurm.ListAsync(JobName, bounded.Token).ConfigureAwait(false);
            }

            SlurmLog.Stopped(_logger, JobName);
        }
        catch (Exception e) when (e is SlurmException or OperationCanceledException)
        {
            SlurmLog.StopFailed(_logger, JobName, e.Message);
        }
        finally
        {
            _gate.Release();
            RemoveDirectory();
        }
    }

    /// <summary>The dotnet host running this process and the ppserver.dll beside this assembly, quoted for the shell.</summary>
    private static string DefaultPpServerCommand()
    {
        string directory = Path.GetDirectoryName(typeof(SlurmCluster).Assembly.Location) is { Length: > 0 } d ? d : AppContext.BaseDirectory;
        string ppserver = Path.Combine(directory, "ppserver.dll");
        if (!File.Exists(ppserver))
        {
            throw new ArgumentException(
                $"ppserver.dll is not beside PPSharp.Slurm.dll (looked for {ppserver}); reference PPSharp.Server, or set SlurmClusterOptions.PpServerCommand to a ppserver the compute hosts can run.",
                nameof(SlurmClusterOptions.PpServerCommand));
        }

        string? processPath = Environment.ProcessPath;
        string dotnet = processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? processPath
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
                ?? (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root ? Path.Combine(root, "dotnet") : "dotnet");
        return $"{Slurm.JobScript.Quote(dotnet)} {Slurm.JobScript.Quote(ppserver)}";
    }

    private string[] SbatchOptions() => [$"--chdir={_files.Root}", $"--output={Path.Combine(_files.Logs, "%j.log")}"];

    private static void CreateFiles(ClusterFiles files, string secret, string script)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Slurm clusters run on Linux; SlurmCluster needs a Unix file system for the cluster's files.");
        }

        try
        {
            UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            System.IO.Directory.CreateDirectory(files.Root, ownerOnly);
            System.IO.Directory.CreateDirectory(files.Nodes, ownerOnly);
            System.IO.Directory.CreateDirectory(files.Logs, ownerOnly);

            // Created with mode 0600 from the start: there is no moment when others could read it.
            using (var stream = new FileStream(files.Secret, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(secret);
            }

            File.WriteAllText(files.Script, script);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SlurmException($"cannot create the cluster's files in {files.Root}: {e.Message}", e);
        }
    }

    /// <summary>A node killed outright (SIGKILL after Slurm's grace time) leaves its address file: remove those of jobs Slurm no longer runs.</summary>
    private void RemoveStaleAddressFiles(IEnumerable<string> liveIds)
    {
        var live = liveIds.ToHashSet(StringComparer.Ordinal);
        foreach (string id in GetNodes().Keys.Where(id => !live.Contains(id)))
        {
            try
            {
                File.Delete(Path.Combine(_files.Nodes, id));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                SlurmLog.StopFailed(_logger, JobName, e.Message);
            }
        }
    }

    private void RemoveDirectory()
    {
        try
        {
            System.IO.Directory.Delete(_files.Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            SlurmLog.StopFailed(_logger, JobName, $"cannot remove {_files.Root}: {e.Message}");
        }
    }

    private static string? TryRead(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Validate(SlurmClusterOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Jobs, nameof(options.Jobs));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CpusPerJob, 1, nameof(options.CpusPerJob));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.CpusPerJob, MaxCpusPerJob, nameof(options.CpusPerJob));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.SlurmCommandTimeout, TimeSpan.Zero, nameof(options.SlurmCommandTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.StopTimeout, TimeSpan.Zero, nameof(options.StopTimeout));
        if (options.TimeLimit is TimeSpan limit)
        {
            Check(limit.ToString(), nameof(options.TimeLimit), limit > TimeSpan.Zero && limit <= TimeSpan.FromDays(365), "more than zero and at most 365 days");
        }

        Check(options.JobName, nameof(options.JobName), IsWord(options.JobName, "_.-") && options.JobName.Length <= 64,
            "letters, digits, '_', '.' and '-', at most 64 of them");
        if (options.Partition is not null)
        {
            Check(options.Partition, nameof(options.Partition), IsWord(options.Partition, "_.-,"), "a partition name (letters, digits, '_', '.', '-'; several separated by ',')");
        }

        if (options.MemoryPerJob is not null)
        {
            string memory = options.MemoryPerJob;
            int digits = memory.TakeWhile(char.IsAsciiDigit).Count();
            Check(memory, nameof(options.MemoryPerJob),
                digits > 0 && (digits == memory.Length || (digits == memory.Length - 1 && "KMGTkmgt".Contains(memory[^1], StringComparison.Ordinal))),
                "a size in Slurm's notation: a number, optionally followed by K, M, G or T (\"64G\")");
        }

        ArgumentNullException.ThrowIfNull(options.ExtraDirectives, nameof(options.ExtraDirectives));
        foreach (string directive in options.ExtraDirectives)
        {
            Check(directive, nameof(options.ExtraDirectives), directive is { Length: > 1 } && directive[0] == '-' && !directive.Any(char.IsControl),
                "an sbatch option on one line, starting with '-' (\"--account=proj42\")");
        }

        if (options.Interface is not null)
        {
            Check(options.Interface, nameof(options.Interface),
                IPAddress.TryParse(options.Interface, out _) || Uri.CheckHostName(options.Interface) == UriHostNameType.Dns,
                "an IP address or a host name");
        }

        if (options.PpServerCommand is not null)
        {
            Check(options.PpServerCommand, nameof(options.PpServerCommand), options.PpServerCommand.Trim().Length > 0 && !options.PpServerCommand.Any(char.IsControl),
                "a command on one line");
        }

        foreach ((string name, string value) in options.JobEnvironment)
        {
            Check(name, nameof(options.JobEnvironment), IsWord(name, "_") && !char.IsAsciiDigit(name[0]) && !value.Contains('\0', StringComparison.Ordinal),
                "an environment variable name (letters, digits and '_', not starting with a digit) with a value");
        }

        if (options.WorkDirectory is not null)
        {
            Check(options.WorkDirectory, nameof(options.WorkDirectory), options.WorkDirectory.Length > 0 && !options.WorkDirectory.Any(char.IsControl),
                "a directory path");
        }
    }

    private static bool IsWord(string text, string punctuation) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || punctuation.Contains(c, StringComparison.Ordinal));

    private static void Check(string value, string name, bool valid, string expected)
    {
        if (!valid)
        {
            throw new ArgumentException($"'{value}' is not a valid {name}: expected {expected}.", name);
        }
    }
}
