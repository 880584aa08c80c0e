using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace PPSharp.Slurm;

/// <summary>
/// The Slurm commands a cluster needs (<c>sbatch</c>, <c>squeue</c>, <c>scancel</c>), run as processes with their
/// arguments as a list (no shell), each bounded by a timeout. Slurm finds its configuration as it always does
/// (<c>SLURM_CONF</c> or the installed default), from this process's environment.
/// </summary>
internal sealed class SlurmCommands(TimeSpan timeout)
{
    /// <summary>Submits a batch script; returns the job id Slurm gave it.</summary>
    /// <exception cref="SlurmException">sbatch failed or printed no job id.</exception>
    public async Task<string> SubmitAsync(IEnumerable<string> options, string script, IEnumerable<KeyValuePair<string, string>> environment, CancellationToken cancellationToken)
    {
        string output = await RunAsync("sbatch", [.. options, "--parsable", script], cancellationToken, environment).ConfigureAwait(false);

        // --parsable prints "ID" or "ID;CLUSTER".
        string id = output.Trim().Split(';')[0];
        return id.Length > 0 && id.All(char.IsAsciiDigit)
            ? id
            : throw new SlurmException($"sbatch printed no job id: '{output.Trim()}'");
    }

    /// <summary>The jobs named <paramref name="jobName"/> that Slurm still lists, with their compact state (PD, R, CG, ...).</summary>
    /// <exception cref="SlurmException">squeue failed.</exception>
    public async Task<IReadOnlyList<(string Id, string State)>> ListAsync(string jobName, CancellationToken cancellationToken)
    {
        string output = await RunAsync("squeue", ["--noheader", "--name", jobName, "--format", "%i %t"], cancellationToken).ConfigureAwait(false);
        var jobs = new List<(string, string)>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2)
            {
                jobs.Add((fields[0], fields[1]));
            }
        }

        return jobs;
    }

    /// <summary>
    /// Cancels these jobs. A job that ended meanwhile is not an error, so scancel's own exit status is not checked:
    /// the caller asks squeue what is left.
    /// </summary>
    public async Task CancelAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        try
        {
            await RunAsync("scancel", [.. ids], cancellationToken).ConfigureAwait(false);
        }
        catch (SlurmException)
        {
            // "already completing or completed": what was asked for has happened.
        }
    }

    private async Task<string> RunAsync(
        string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in environment ?? [])
        {
            start.Environment[name] = value; // sbatch exports its own environment to the job (--export=ALL, Slurm's default)
        }

        string commandLine = $"{command} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SlurmException($"could not start {command}");
        }
        catch (Win32Exception e)
        {
            throw new SlurmException($"cannot run {command}: {e.Message}. Is Slurm installed, and is {command} on the PATH?", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                throw new SlurmException($"{commandLine} did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; is slurmctld answering?");
            }

            string stdout = await output.ConfigureAwait(false);
            string stderr = await error.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new SlurmException($"{commandLine} failed with exit code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {stderr.Trim()}");
            }

            return stdout;
        }
    }
}
