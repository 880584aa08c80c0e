using Microsoft.Extensions.Logging;

namespace PPSharp.Slurm;

/// <summary>
/// Settings of a <see cref="SlurmCluster"/>: how many Slurm jobs to run (one <c>ppserver</c> node each) and what each
/// asks Slurm for. Every property but <see cref="Jobs"/> and <see cref="CpusPerJob"/> is optional and, when left
/// unset, leaves the choice to Slurm's own defaults for the user and partition.
/// </summary>
public sealed class SlurmClusterOptions
{
    /// <summary>The default for <see cref="JobName"/>.</summary>
    public const string DefaultJobName = "ppsharp";

    /// <summary>The default for <see cref="SlurmCommandTimeout"/>: one minute.</summary>
    public static readonly TimeSpan DefaultSlurmCommandTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The default for <see cref="StopTimeout"/>: two minutes.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The number of Slurm jobs to start, each running one node. Default 1; 0 starts none (see <see cref="SlurmCluster.ScaleAsync"/>).</summary>
    public int Jobs { get; set; } = 1;

    /// <summary>CPUs per job: the job's <c>--cpus-per-task</c> and the node's worker count (<c>ppserver -w</c>). Default 1.</summary>
    public int CpusPerJob { get; set; } = 1;

    /// <summary>The partition (<c>--partition</c>); null (the default) uses the cluster's default partition.</summary>
    public string? Partition { get; set; }

    /// <summary>
    /// Each job's time limit (<c>--time</c>), rounded up to whole minutes; null (the default) uses the partition's.
    /// When it runs out Slurm ends the job: the node leaves and its unfinished jobs are run elsewhere.
    /// </summary>
    public TimeSpan? TimeLimit { get; set; }

    /// <summary>Memory per job in Slurm's notation (<c>--mem</c>: "64G", "512M", "4096"); null (the default) uses Slurm's.</summary>
    public string? MemoryPerJob { get; set; }

    /// <summary>
    /// More <c>#SBATCH</c> directives, each as it would follow <c>#SBATCH</c> ("--account=proj42", "--qos=long",
    /// "--constraint=avx512"). Written after the ones above, so they can override them.
    /// </summary>
    public IReadOnlyList<string> ExtraDirectives { get; set; } = [];

    /// <summary>The Slurm job name prefix; a random suffix makes each cluster's job name its own. Default "ppsharp".</summary>
    public string JobName { get; set; } = DefaultJobName;

    /// <summary>
    /// The directory, on a file system the compute hosts share with this one, that holds each cluster's batch
    /// script, secret, node address files and job logs (one subdirectory per cluster, removed at dispose).
    /// Null (the default) means <c>~/.ppsharp/slurm</c>: home directories are shared on HPC clusters.
    /// </summary>
    public string? WorkDirectory { get; set; }

    /// <summary>
    /// The address the nodes listen on (<c>ppserver -i</c>). Null (the default) listens on every interface and
    /// reports the compute host's name, which the client then resolves; give an address to pin one network.
    /// </summary>
    public string? Interface { get; set; }

    /// <summary>
    /// How a compute host starts a node, as a shell command line the options are appended to. Null (the default)
    /// runs the <c>ppserver.dll</c> installed beside this assembly with the <c>dotnet</c> host running this process,
    /// so nodes run the same build as the client; set it to <c>"ppserver"</c> to use a tool installed on the hosts.
    /// </summary>
    public string? PpServerCommand { get; set; }

    /// <summary>
    /// Environment variables to set in the jobs (their nodes, and the nodes' workers), on top of this process's
    /// environment, which <c>sbatch</c> passes on as it does by default. Empty by default.
    /// </summary>
    public IDictionary<string, string> JobEnvironment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How long one Slurm command (<c>sbatch</c>, <c>squeue</c>, <c>scancel</c>) may take before it is taken for failed (<see cref="DefaultSlurmCommandTimeout"/>).</summary>
    public TimeSpan SlurmCommandTimeout { get; set; } = DefaultSlurmCommandTimeout;

    /// <summary>How long <see cref="SlurmCluster.DisposeAsync"/> waits for Slurm to show the cancelled jobs gone (<see cref="DefaultStopTimeout"/>).</summary>
    public TimeSpan StopTimeout { get; set; } = DefaultStopTimeout;

    /// <summary>Where the cluster logs the jobs it submits and cancels. Null (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
