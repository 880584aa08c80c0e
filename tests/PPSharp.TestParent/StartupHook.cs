#pragma warning disable CA1050 // The runtime looks the startup hook up by this exact name, outside any namespace.

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A startup hook for tests that need worker processes that misbehave, given to a <c>ppserver</c> in
/// <c>DOTNET_STARTUP_HOOKS</c>; the node itself (no worker endpoint in its environment) runs normally.
/// <list type="bullet">
/// <item><c>PPSHARP_TEST_WORKERS_CANNOT_START=1</c>: every worker exits at once, before it introduces itself, as one
/// whose runtime is broken would.</item>
/// <item><c>PPSHARP_TEST_WORKERS_WRONG_FIRST_HELLO=1</c>: every worker connects its two sockets as a worker does, but
/// says Hello with a wrong token on the first (the one the job server writes jobs to) and with the right one on the
/// second, then waits for the server to close them: whatever checks only the second would send it jobs.</item>
/// </list>
/// </summary>
internal static class StartupHook
{
    public const string Variable = "PPSHARP_TEST_WORKERS_CANNOT_START";

    public const string WrongFirstHello = "PPSHARP_TEST_WORKERS_WRONG_FIRST_HELLO";

    public static void Initialize()
    {
        string? endpoint = Environment.GetEnvironmentVariable("PPSHARP_WORKER_ENDPOINT");
        if (endpoint is null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable(Variable) == "1")
        {
            Console.Error.WriteLine("this worker cannot start (the test's startup hook)");
            Environment.Exit(3);
        }

        if (Environment.GetEnvironmentVariable(WrongFirstHello) == "1")
        {
            string token = Environment.GetEnvironmentVariable("PPSHARP_WORKER_TOKEN") ?? string.Empty;
            string build = typeof(PPSharp.JobServer).Module.ModuleVersionId.ToString("N");
            using Socket first = Connect(endpoint);
            first.Send(Hello("0123456789abcdef0123456789abcdef", build));
            using Socket second = Connect(endpoint);
            second.Send(Hello(token, build));
            var buffer = new byte[4096];
            while (first.Receive(buffer) > 0)
            {
                // Whatever the server writes to an impostor; it should close the socket instead.
            }

            Environment.Exit(3);
        }
    }

    private static Socket Connect(string endpoint)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(endpoint));
        return socket;
    }

    /// <summary>A Hello frame, written out by hand (the protocol's types are internal): docs/protocol.md.</summary>
    private static byte[] Hello(string token, string build)
    {
        var payload = new List<byte> { 5 }; // protocol version, a positive fixint
        AddString(payload, token);
        payload.Add(0xd2); // int32
        var pid = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(pid, Environment.ProcessId);
        payload.AddRange(pid);
        AddString(payload, build);
        var frame = new byte[5 + payload.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Count);
        frame[4] = 1; // Hello
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static void AddString(List<byte> payload, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        payload.Add(0xd9); // str 8
        payload.Add((byte)bytes.Length);
        payload.AddRange(bytes);
    }
}
