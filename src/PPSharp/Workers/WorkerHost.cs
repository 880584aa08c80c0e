using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using MessagePack;
using PPSharp.Execution;
using PPSharp.Protocol;
using PPSharp.Serialization;

namespace PPSharp.Workers;

/// <summary>
/// The worker side of a local worker channel: connects back to the job server, then runs the jobs it receives one at a
/// time, in order, on the main thread, while the read loop keeps receiving (read-ahead) and the write loop sends
/// results. Exits as soon as the job server's end of the channel closes without a Shutdown (the server's process has
/// died, even by kill -9), so no worker outlives its server.
/// </summary>
internal static class WorkerHost
{
    private sealed record IncomingJob(long Id, int FunctionId, bool AcknowledgeStart, byte[] Body);

    public static void Run(string endpoint, string token)
    {
        // Children of this worker must not become workers too.
        Environment.SetEnvironmentVariable(WorkerEnvironment.Endpoint, null);
        Environment.SetEnvironmentVariable(WorkerEnvironment.Token, null);
        Environment.SetEnvironmentVariable(WorkerEnvironment.StartupHooks, null);
        int maxFrame = int.TryParse(Environment.GetEnvironmentVariable(WorkerEnvironment.MaxFrame), out int m) ? m : int.MaxValue;
        Environment.SetEnvironmentVariable(WorkerEnvironment.MaxFrame, null);

        // Ctrl-C in a terminal signals the whole process group: the job server decides when its workers stop (and they
        // stop by themselves when it exits), so a worker must not die first and fail the job it is running.
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);
        OutputCapture output = OutputCapture.Install();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(endpoint));
        }
        catch (SocketException)
        {
            Environment.Exit(3); // The server is already gone.
        }

        // Synchronous continuations: the read loop wakes the blocked job thread directly, without a thread-pool hop.
        var jobs = Channel.CreateUnbounded<IncomingJob>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
        var functions = new FunctionTable();
        bool shuttingDown = false;
        var connection = new FrameConnection(new NetworkStream(socket, ownsSocket: true), maxFrame, (type, payload) =>
        {
            switch (type)
            {
                case MessageType.DefineFunction:
                    functions.Define(payload);
                    break;
                case MessageType.RunJob:
                    var reader = new MessagePackReader(payload);
                    long id = (long)reader.ReadUInt64();
                    int functionId = reader.ReadInt32();
                    bool acknowledge = reader.ReadBoolean();
                    jobs.Writer.TryWrite(new IncomingJob(id, functionId, acknowledge, payload.Slice(reader.Position).ToArray()));
                    break;
                case MessageType.Shutdown:
                    shuttingDown = true;
                    jobs.Writer.TryComplete();
                    break;
                default:
                    throw new ProtocolException($"A worker does not accept {type} frames.");
            }
        });
        connection.Completion.ContinueWith(
            _ =>
            {
                if (!Volatile.Read(ref shuttingDown))
                {
                    Environment.Exit(0); // The job server is gone: do not outlive it.
                }
            },
            TaskScheduler.Default);
        connection.Start();
        connection.Send(new Messages.Hello(Messages.ProtocolVersion, token, Environment.ProcessId, Messages.BuildId));

        var results = new ArrayBufferWriter<byte>(256);
        ChannelReader<IncomingJob> queue = jobs.Reader;
        DeepStack.OnLargeStack(() => ServeJobs(queue, connection, functions, output, results)); // deep values and deep recursion in jobs
        connection.CompleteSending();
        connection.Completion.Wait(TimeSpan.FromSeconds(30));
        Environment.Exit(0);
    }

    private static bool ServeJobs(ChannelReader<IncomingJob> queue, FrameConnection connection, FunctionTable functions, OutputCapture output, ArrayBufferWriter<byte> results)
    {
        while (queue.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (queue.TryRead(out IncomingJob? job))
            {
                if (job.AcknowledgeStart)
                {
                    // Out on the wire before the job runs: if the job then kills this process, the server knows it was this one.
                    connection.SendAndFlush(new Messages.JobStarted(job.Id));
                }

                connection.Send(Execute(job, functions, output, results));
            }
        }

        return true;
    }

    private static IOutgoingFrame Execute(IncomingJob job, FunctionTable functions, OutputCapture output, ArrayBufferWriter<byte> results)
    {
        results.ResetWrittenCount();
        output.Begin();
        long started = Stopwatch.GetTimestamp();
        Exception? error = null;
        try
        {
            functions.Get(job.FunctionId).Run(new ReadOnlySequence<byte>(job.Body), results);
        }
        catch (JobCodeException ex)
        {
            error = ex.InnerException!;
        }
        catch (Exception ex)
        {
            error = ex;
        }

        long elapsed = Stopwatch.GetElapsedTime(started).Ticks;
        string? text = output.End();
        if (error is null)
        {
            ReadOnlyMemory<byte> value = results.WrittenMemory.ToArray();
            return new Messages.JobSucceeded(job.Id, elapsed, text, value);
        }

        return ExceptionPayload.Failed(job.Id, elapsed, text, error);
    }
}
