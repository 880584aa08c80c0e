using System.Net.Sockets;

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
    private readonly GateListener gate;

    /// <param name="path">Where the socket is made (a path that does not exist yet; at most about 100 bytes long).</param>
    public FileSystemGate(string path)
    {
        Path = path;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        gate = new GateListener(listener);
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
    public Task<int> NextArrivalAsync(TimeSpan? bound = null) => gate.NextArrivalAsync(bound);

    /// <summary>Releases every waiting job, and every job that arrives from now on.</summary>
    public void Open() => gate.Open();

    public void Dispose()
    {
        gate.Dispose();
        File.Delete(Path);
    }
}
