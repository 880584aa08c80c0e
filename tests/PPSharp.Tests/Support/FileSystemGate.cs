using System.Net.Sockets;
using System.Threading.Channels;

namespace PPSharp.Tests.Support;

/// <summary>
/// A <see cref="JobGate"/> reached through the file system (a Unix domain socket at a path) rather than loopback TCP:
/// a path-bound Unix socket is found by its path, whatever network namespace the job runs in, so jobs on a node in a
/// network namespace of its own still reach the test, and cutting that namespace's link does not cut the gate. A job
/// calls <see cref="ArriveAndWait"/>, which reports the worker's pid and blocks until the test calls <see cref="Open"/>
/// (or disposes the gate); the test learns of each arrival from <see cref="NextArrivalAsync"/>. No sleeps.
/// </summary>
public sealed class FileSystemGate : IDisposable
{
    private readonly Socket listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<int> arrivals = Channel.CreateUnbounded<int>();
    private readonly List<Socket> clients = [];
    private readonly Lock sync = new();
    private readonly Task acceptLoop;
    private bool open;

    /// <param name="path">Where the socket is made (a path that does not exist yet; at most about 100 bytes long).</param>
    public FileSystemGate(string path)
    {
        Path = path;
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(128);
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The socket's path; pass it to the job as its argument.</summary>
    public string Path { get; }

    /// <summary>
    /// Job code (runs in the worker): connects to the gate, sends the worker's pid, waits until the gate opens or goes
    /// away, then returns the worker's pid.
    /// </summary>
    public static int ArriveAndWait(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(BitConverter.GetBytes(Environment.ProcessId));
        _ = socket.Receive(new byte[1]);
        return Environment.ProcessId;
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
        File.Delete(Path);
    }

    private static void Release(Socket client)
    {
        try
        {
            client.Send([1]);
        }
        catch (SocketException)
        {
            // The job's worker is gone (killed with its node, or by the test); nothing to release.
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
                int read = 0;
                while (read < buffer.Length)
                {
                    int n = await client.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, stop.Token);
                    if (n == 0)
                    {
                        throw new EndOfStreamException();
                    }

                    read += n;
                }

                pid = BitConverter.ToInt32(buffer);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
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
