using System.Globalization;
using System.Text;

namespace PPSharp.Slurm;

/// <summary>
/// Writes the batch script of a <see cref="SlurmCluster"/>'s jobs from its options: the <c>#SBATCH</c> directives,
/// then one <c>ppserver</c> that picks a free port (several users' nodes may share a host) and reports its address
/// through a file on the shared file system.
/// </summary>
internal static class JobScript
{
    /// <summary>The environment variable the node reads its secret from; it is filled from a file, never given as an argument.</summary>
    public const string SecretVariable = "PPSHARP_SECRET";

    /// <param name="options">The cluster's options.</param>
    /// <param name="jobName">The Slurm job name every job of the cluster carries.</param>
    /// <param name="files">The cluster's directory on the shared file system.</param>
    /// <param name="ppserverCommand">How to start ppserver on a compute host.</param>
    /// <param name="salt">
    /// The cluster's salt, shared by all its nodes so that the client stretches the secret once for the cluster, not
    /// once per node; not secret (every node's hello carries it), so it may be on the command line.
    /// </param>
    public static string Build(SlurmClusterOptions options, string jobName, ClusterFiles files, string ppserverCommand, byte[] salt)
    {
        var script = new StringBuilder();
        script.Append("#!/bin/bash\n");
        Directive(script, $"--job-name={jobName}");
        Directive(script, "--nodes=1");
        Directive(script, "--ntasks=1");
        Directive(script, $"--cpus-per-task={options.CpusPerJob.ToString(CultureInfo.InvariantCulture)}");
        if (options.Partition is not null)
        {
            Directive(script, $"--partition={options.Partition}");
        }

        if (options.TimeLimit is TimeSpan limit)
        {
            Directive(script, $"--time={((long)Math.Ceiling(limit.TotalMinutes)).ToString(CultureInfo.InvariantCulture)}");
        }

        if (options.MemoryPerJob is not null)
        {
            Directive(script, $"--mem={options.MemoryPerJob}");
        }

        foreach (string directive in options.ExtraDirectives)
        {
            Directive(script, directive);
        }

        script.Append("# One PPSharp node (ppserver) of a SlurmCluster. sbatch is also given --chdir and --output (the job's log,\n");
        script.Append(CultureInfo.InvariantCulture, $"# {files.Logs}/<job id>.log) on its command line. The node picks a free port and, once it listens, writes\n");
        script.Append("# HOST:PORT to a file named after the job in the cluster's nodes directory, which the client watches; it removes\n");
        script.Append("# the file when it stops. The secret comes from a file only this user can read, so no command line shows it.\n");
        script.Append("set -eu\n");
        script.Append(CultureInfo.InvariantCulture, $"{SecretVariable}=\"$(cat {Quote(files.Secret)})\"\n");
        script.Append(CultureInfo.InvariantCulture, $"export {SecretVariable}\n");
        script.Append(CultureInfo.InvariantCulture, $"exec {ppserverCommand} -p 0 -w {options.CpusPerJob.ToString(CultureInfo.InvariantCulture)} --salt {Convert.ToHexStringLower(salt)}");
        if (options.Interface is not null)
        {
            script.Append(CultureInfo.InvariantCulture, $" -i {Quote(options.Interface)}");
        }

        script.Append(CultureInfo.InvariantCulture, $" -o {Quote(files.Nodes + "/")}\"$SLURM_JOB_ID\"\n");
        return script.ToString();
    }

    /// <summary>Quotes a word for the shell: single quotes, with each single quote inside written as <c>'\''</c>.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void Directive(StringBuilder script, string directive) => script.Append("#SBATCH ").Append(directive).Append('\n');
}

/// <summary>Where one cluster keeps its files: all under one directory of its own on the shared file system.</summary>
internal sealed record ClusterFiles(string Root)
{
    /// <summary>The batch script every job of the cluster runs.</summary>
    public string Script => Path.Combine(Root, "job.sh");

    /// <summary>The secret, readable by this user only.</summary>
    public string Secret => Path.Combine(Root, "secret");

    /// <summary>One address file per running node, named after its job id.</summary>
    public string Nodes => Path.Combine(Root, "nodes");

    /// <summary>The jobs' standard output and error, one file per job.</summary>
    public string Logs => Path.Combine(Root, "logs");
}
