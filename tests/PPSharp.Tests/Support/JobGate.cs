using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace PPSharp.Tests.Support;

/// <summary>
/// Deterministic synchronisation between a test and jobs running in worker processes, with no sleeps:
/// a job calls <see cref="ArriveAndWait"/> (in the worker), which connects to this gate over loopback
/// TCP, reports the worker's pid and blocks until the test calls <see cref="Open"/> (or disposes the gate).
/// The test learns that a job is running, and where, from <see cref="NextArrivalAsync"/>.
/// </summary>
public sealed class JobGate : IDisposable
{
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<int> arrivals = Channel.CreateUnbounded<int>();
    private readonly List<TcpClient> clients = [];
    private readonly Lock sync = new();
    private readonly Task acceptLoop;
    private bool open;

    public JobGate()
    {
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The loopback port the jobs connect to; pass it to the job as its argument.</summary>
    public int Port { get; }

    /// <summary>
    /// Job code (runs in the worker): connects to the gate, sends the worker's pid, waits until the gate
    /// opens or goes away, then returns the worker's pid.
    /// </summary>
    public static int ArriveAndWait(int port)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        stream.Write(BitConverter.GetBytes(Environment.ProcessId));
        stream.Flush();
        _ = stream.ReadByte();
        return Environment.ProcessId;
    }

    /// <summary>Job code (runs in the worker): reports the worker's pid to the gate and goes on at once.</summary>
    public static void Arrive(int port)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        client.GetStream().Write(BitConverter.GetBytes(Environment.ProcessId));
    }

    /// <summary>Waits (bounded) until one more job has arrived at the gate; returns its worker's pid.</summary>
    public async Task<int> NextArrivalAsync(TimeSpan? bound = null) =>
        await arrivals.Reader.ReadAsync().AsTask().WaitAsync(bound ?? Bounds.Hang);

    /// <summary>Releases every waiting job, and every job that arrives from now on.</summary>
    public void Open()
    {
        lock (sync)
        {
            open = true;
            foreach (TcpClient client in clients)
            {
                Release(client);
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        lock (sync)
        {
            foreach (TcpClient client in clients)
            {
                client.Dispose();
            }

            clients.Clear();
        }

        try
        {
            acceptLoop.Wait(Bounds.Hang);
        }
        catch (AggregateException)
        {
        }

        stop.Dispose();
    }

    private static void Release(TcpClient client)
    {
        try
        {
            client.GetStream().WriteByte(1);
        }
        catch (IOException)
        {
            // The job's worker is gone (crashed or killed by the test); nothing to release.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            int pid;
            try
            {
                var buffer = new byte[4];
                await client.GetStream().ReadExactlyAsync(buffer, stop.Token);
                pid = BitConverter.ToInt32(buffer);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
            {
                client.Dispose();
                continue;
            }

            lock (sync)
            {
                if (stop.IsCancellationRequested)
                {
                    client.Dispose();
                    return;
                }

                clients.Add(client);
                if (open)
                {
                    Release(client);
                }
            }

            arrivals.Writer.TryWrite(pid);
        }
    }
}
