using System.Net;
using System.Net.Sockets;

namespace PPSharp.Tests.Support;

/// <summary>
/// Deterministic synchronisation between a test and jobs running in worker processes, with no sleeps:
/// a job calls <see cref="ArriveAndWait"/> (in the worker), which connects to this gate over loopback
/// TCP, reports the worker's pid and blocks until the test calls <see cref="Open"/> (or disposes the gate).
/// The test learns that a job is running, and where, from <see cref="NextArrivalAsync"/>.
/// </summary>
public sealed class JobGate : IDisposable
{
    private readonly GateListener gate;

    public JobGate()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        gate = new GateListener(listener);
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
    public Task<int> NextArrivalAsync(TimeSpan? bound = null) => gate.NextArrivalAsync(bound);

    /// <summary>Releases every waiting job, and every job that arrives from now on.</summary>
    public void Open() => gate.Open();

    public void Dispose() => gate.Dispose();
}
