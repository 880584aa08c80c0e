using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PPSharp.Remote;

namespace PPSharp.Server;

/// <summary>
/// Runs one node until it is told to stop: writes the pid file, starts the <see cref="NodeHost"/>, prints the
/// "listening on" line, answers SIGUSR1 with the statistics, and stops on SIGINT, SIGTERM or the idle timeout.
/// </summary>
internal static class NodeRunner
{
    /// <summary>Runs the node; returns the exit code.</summary>
    /// <exception cref="SettingsException">The pid file cannot be written (nothing was started).</exception>
    public static async Task<int> RunAsync(ServerSettings settings, ILoggerFactory loggerFactory, TextWriter output)
    {
        ILogger logger = loggerFactory.CreateLogger("PPSharp.Server");
        Report(settings, logger);

        // Registered before anything starts, so that a stop signal at any point ends the node cleanly (the pid
        // file removed) rather than killing the process where it stands.
        var stopSignal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopping = new CancellationTokenSource();
        void OnStopSignal(PosixSignalContext context)
        {
            // A second signal while stopping takes the default action, which ends the process: the way out
            // if stopping hangs.
            context.Cancel = stopSignal.TrySetResult(context.Signal.ToString());
            if (context.Cancel)
            {
                stopping.Cancel();
            }
        }

        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);

        using PidFile? pidFile = settings.PidFile is null ? null : PidFile.Write(settings.PidFile);
        if (pidFile is not null)
        {
            ServerLog.PidFileWritten(logger, pidFile.Path);
        }

        var node = new NodeHost(settings.ToNodeHostOptions(loggerFactory));
        try
        {
            try
            {
                await node.StartAsync(stopping.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                ServerLog.Stopping(logger, await stopSignal.Task);
                return ExitCodes.Success;
            }
            catch (SocketException e)
            {
                ServerLog.CannotListen(logger, settings.Interface, settings.Port, e.Message);
                await Console.Error.WriteLineAsync($"ppserver: cannot listen on {settings.Interface}:{settings.Port}: {e.Message}");
                return ExitCodes.Failure;
            }

            using PosixSignalRegistration? stats = RegisterStatisticsSignal(node, output, logger);

            // Written only now that the port is open, so whoever reads the file can connect at once; and before the
            // "listening on" line, so whoever reads that line finds the file already there.
            using PidFile? addressFile = WriteAddressFile(settings, node, logger);

            // Tests and scripts read this line to learn the port (-p 0); keep its wording.
            await output.WriteLineAsync($"ppserver listening on {node.LocalEndPoint} with {settings.Workers} workers");
            await output.FlushAsync();

            await using MetricsEndpoint? metrics = settings.MetricsPort is int metricsPort
                ? await MetricsEndpoint.StartAsync(settings.MetricsInterface, metricsPort, () => !stopping.IsCancellationRequested)
                : null;
            if (metrics is not null)
            {
                // Printed after the "listening on" line, which scripts read first; keep its wording too.
                await output.WriteLineAsync($"ppserver metrics on {metrics.Address}");
                await output.FlushAsync();
            }

            Task idle = node.Idle;
            Task first = await Task.WhenAny(stopSignal.Task, idle);
            if (first == idle)
            {
                await idle; // a node that failed surfaces here
                ServerLog.IdleExit(logger, settings.IdleTimeout?.TotalSeconds ?? 0);
            }
            else
            {
                ServerLog.Stopping(logger, await stopSignal.Task);
            }

            return ExitCodes.Success;
        }
        catch (Exception e) when (e is not SettingsException)
        {
            ServerLog.NodeFailed(logger, e);
            await Console.Error.WriteLineAsync($"ppserver: the node failed: {e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            // Stops taking jobs and tells every client the node is leaving, so they reschedule its jobs at once.
            try
            {
                await node.StopAsync();
            }
            catch (Exception e)
            {
                ServerLog.NodeFailed(logger, e);
            }
        }
    }

    private static void Report(ServerSettings settings, ILogger logger)
    {
        foreach (string warning in settings.Warnings)
        {
            ServerLog.ConfigWarning(logger, warning);
        }

        if (settings.Secret is null)
        {
            ServerLog.NoSecret(logger, ServerSettings.SecretEnvironmentVariable);
        }
        else
        {
            ServerLog.SecretFrom(logger, settings.SecretOrigin ?? "?");
        }

        if (settings.IdleTimeout is TimeSpan idle)
        {
            ServerLog.IdleTimeout(logger, idle.TotalSeconds);
        }

        ServerLog.Starting(logger, settings.Interface, settings.Port, settings.Workers);
    }

    /// <summary>
    /// <c>-o</c>: the address a client reaches this node at, "HOST:PORT\n". HOST is the interface when the node listens
    /// on one address, or the machine's name when it listens on all (a scheduler's compute hosts are known by name).
    /// </summary>
    private static PidFile? WriteAddressFile(ServerSettings settings, NodeHost node, ILogger logger)
    {
        if (settings.AddressFile is null)
        {
            return null;
        }

        IPEndPoint listening = node.LocalEndPoint;
        string host = listening.Address.Equals(IPAddress.Any) || listening.Address.Equals(IPAddress.IPv6Any)
            ? Dns.GetHostName()
            : listening.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{listening.Address}]" : listening.Address.ToString();
        string address = $"{host}:{listening.Port.ToString(CultureInfo.InvariantCulture)}";
        PidFile file = PidFile.Write(settings.AddressFile, address + "\n", "address file");
        ServerLog.AddressFileWritten(logger, address, file.Path);
        return file;
    }

    /// <summary>SIGUSR1 prints ppft's statistics table, as ppft's ppserver does (unix only).</summary>
    private static PosixSignalRegistration? RegisterStatisticsSignal(NodeHost node, TextWriter output, ILogger logger)
    {
        // PosixSignal names only the signals every platform shares; SIGUSR1 is given by its raw number.
        int? sigusr1 = OperatingSystem.IsLinux() ? 10
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 30
            : null;
        if (sigusr1 is null)
        {
            return null;
        }

        return PosixSignalRegistration.Create((PosixSignal)sigusr1.Value, context =>
        {
            context.Cancel = true; // otherwise the default action of SIGUSR1 ends the process
            try
            {
                node.PrintStats(output);
                output.Flush();
            }
            catch (Exception e)
            {
                ServerLog.NodeFailed(logger, e);
            }
        });
    }
}
