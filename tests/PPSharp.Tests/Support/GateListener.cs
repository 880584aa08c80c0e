using System.Net.Sockets;
using System.Threading.Channels;

namespace PPSharp.Tests.Support;

/// <summary>
/// The test's side of <see cref="JobGate"/> and <see cref="FileSystemGate"/>, whatever socket they listen on: accepts
/// each arriving job, reads its worker's pid, and holds the job until <see cref="Open"/> (or disposal).
/// </summary>
internal sealed class GateListener : IDisposable
{
    private readonly Socket listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<int> arrivals = Channel.CreateUnbounded<int>();
    private readonly List<Socket> clients = [];
    private readonly Lock sync = new();
    private readonly Task acceptLoop;
    private bool open;

    /// <param name="listener">A bound socket; it is put to listen here and disposed with the gate.</param>
    public GateListener(Socket listener)
    {
        this.listener = listener;
        listener.Listen(128);
        acceptLoop = Task.Run(AcceptLoopAsync);
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
            foreach (Socket client in clients)
            {
                Release(client);
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Dispose();
        lock (sync)
        {
            foreach (Socket client in clients)
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

    private static void Release(Socket client)
    {
        try
        {
            client.Send([1]);
        }
        catch (SocketException)
        {
            // The job's worker is gone (crashed, or killed by the test or with its node); nothing to release.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            int pid;
            try
            {
                var buffer = new byte[4];
                await new NetworkStream(client, ownsSocket: false).ReadExactlyAsync(buffer, stop.Token);
                pid = BitConverter.ToInt32(buffer);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
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
