// Test helper program (see PPSharp.TestParent.csproj).
//
// Usage: dotnet PPSharp.TestParent.dll <busy|idle> <ncpus>, or: refused <node address> (see Refused.cs),
// or: counters <ncpus> (see Counters.cs)
//
// Starts a JobServer with <ncpus> local workers and learns every worker's pid by running one job per
// worker that connects back to this process over loopback TCP and blocks until released. It prints
//   PARENT <pid>
//   WORKER <pid>      (one line per worker)
//   READY
// In "idle" mode the jobs are released and finished before READY (workers idle); in "busy" mode they
// never return (workers mid-job). Then the program blocks until its standard input is closed.
using System.Net;
using System.Net.Sockets;
using PPSharp;

namespace PPSharp.TestParent;

public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "idle";
        if (mode == "refused")
        {
            return Refused.Run(args[1]);
        }

        if (mode == "counters")
        {
            return Counters.Run(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        int ncpus = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var server = new JobServer(ncpus);
        Console.WriteLine($"PARENT {Environment.ProcessId}");

        var jobs = new List<Job<int>>();
        for (int i = 0; i < ncpus; i++)
        {
            jobs.Add(mode == "idle"
                ? server.Submit(WorkerJobs.ArriveAndWait, port)
                : server.Submit(WorkerJobs.ArriveAndHang, port));
        }

        var clients = new List<TcpClient>();
        for (int i = 0; i < ncpus; i++)
        {
            TcpClient client = listener.AcceptTcpClient();
            clients.Add(client);
            var buffer = new byte[4];
            client.GetStream().ReadExactly(buffer);
            Console.WriteLine($"WORKER {BitConverter.ToInt32(buffer)}");
        }

        if (mode == "idle")
        {
            foreach (TcpClient client in clients)
            {
                client.GetStream().WriteByte(1);
            }

            foreach (Job<int> job in jobs)
            {
                _ = job.Result;
            }
        }

        Console.WriteLine("READY");
        Console.Out.Flush();

        // Block until the test closes our standard input (or kills us, which is the point).
        _ = Console.In.ReadToEnd();

        foreach (TcpClient client in clients)
        {
            client.Dispose();
        }

        server.Dispose();
        return 0;
    }
}

/// <summary>Code that runs inside the workers.</summary>
public static class WorkerJobs
{
    /// <summary>Connects to the parent, sends this worker's pid, waits for one byte (or EOF).</summary>
    public static int ArriveAndWait(int port)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        stream.Write(BitConverter.GetBytes(Environment.ProcessId));
        _ = stream.ReadByte();
        return Environment.ProcessId;
    }

    /// <summary>Connects to the parent, sends this worker's pid, then never returns: the worker stays mid-job.</summary>
    public static int ArriveAndHang(int port)
    {
        using (var client = new TcpClient())
        {
            client.Connect(IPAddress.Loopback, port);
            client.GetStream().Write(BitConverter.GetBytes(Environment.ProcessId));
        }

        Thread.Sleep(Timeout.Infinite);
        return Environment.ProcessId;
    }
}
