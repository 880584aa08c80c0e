namespace PPSharp.Tests.Slurm;

/// <summary>
/// Whether a Slurm cluster answers here (<c>squeue</c> runs and succeeds), asked once. <c>.ci/run</c> starts a
/// single-host Slurm when it runs as root (<c>eng/slurm/single-host.sh</c>) and exports its <c>SLURM_CONF</c>; anywhere
/// else the tests that need Slurm are reported as skipped, with the reason, never passed.
/// </summary>
public static class SlurmAvailability
{
    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>Skips the calling test, saying why, when no Slurm answers.</summary>
    public static void SkipUnlessAvailable() => Skip.If(Missing.Value is not null, Missing.Value);

    private static string? Probe()
    {
        try
        {
            var start = new ProcessStartInfo("squeue", "--noheader") { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            Task<string> error = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                process.Kill(entireProcessTree: true);
                return "No Slurm cluster here: squeue did not answer within 15 s. .ci/run starts a single-host Slurm (eng/slurm/single-host.sh) when run as root.";
            }

            return process.ExitCode == 0
                ? null
                : $"No Slurm cluster here: squeue failed ({error.Result.Trim()}). .ci/run starts a single-host Slurm (eng/slurm/single-host.sh) when run as root.";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"No Slurm cluster here: squeue cannot run ({e.Message}). .ci/run installs slurm-wlm and munge and starts a single-host Slurm when run as root.";
        }
    }
}
