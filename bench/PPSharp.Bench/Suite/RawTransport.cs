using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PPSharp.Bench.Suite;

/// <summary>
/// The limits the suite judges PPSharp against: a ping-pong of small frames, an 8 MiB frame echoed, and a batched
/// stream of small frames, between this process and a child process (this program in <see cref="EchoMode"/>), over
/// the kinds of socket PPSharp uses: a Unix domain socket (local workers) and loopback TCP with TCP_NODELAY (nodes).
/// Frames have PPSharp's layout (4-byte little-endian length, 1-byte type, payload), so the child echoes whole frames.
/// </summary>
internal static class RawTransport
{
    public const string EchoMode = "echo";

    /// <summary>The small frame: a 5-byte header and 16 bytes of payload, about what a tiny RunJob carries.</summary>
    public const int SmallPayload = 16;

    public enum Kind
    {
        Unix,
        Tcp,
    }

    /// <summary>Blocking calls on both ends (the machine's limit), or async calls on both ends (what .NET async I/O costs).</summary>
    public enum Style
    {
        Sync,
        Async,
    }

    public sealed record Result(
        Kind Kind,
        Style Style,
        double ProcessStartMs,
        Stats RoundTripMicros,
        double EchoMiBPerSecond,
        double BatchedFramesPerSecond);

    /// <summary>The other end: connects, then echoes every whole frame it has received, as soon as it has it.</summary>
    public static int RunEcho(string[] args)
    {
        // echo unix PATH sync|async   |   echo tcp PORT sync|async
        var kind = args[0] == "unix" ? Kind.Unix : Kind.Tcp;
        var style = args[2] == "async" ? Style.Async : Style.Sync;
        Socket socket = kind == Kind.Unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(kind == Kind.Unix ? new UnixDomainSocketEndPoint(args[1]) : new IPEndPoint(IPAddress.Loopback, int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)));
        using var stream = new NetworkStream(socket, ownsSocket: true);
        if (style == Style.Sync)
        {
            EchoSync(stream);
        }
        else
        {
            EchoAsync(stream).GetAwaiter().GetResult();
        }

        return 0;
    }

    private static void EchoSync(NetworkStream stream)
    {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                return;
            }

            filled += read;
            int whole = WholeFrames(buffer, filled, ref buffer);
            if (whole > 0)
            {
                stream.Write(buffer, 0, whole);
                Buffer.BlockCopy(buffer, whole, buffer, 0, filled - whole);
                filled -= whole;
            }
        }
    }

    private static async Task EchoAsync(NetworkStream stream)
    {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            int read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0)
            {
                return;
            }

            filled += read;
            int whole = WholeFrames(buffer, filled, ref buffer);
            if (whole > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, whole));
                Buffer.BlockCopy(buffer, whole, buffer, 0, filled - whole);
                filled -= whole;
            }
        }
    }

    /// <summary>How many leading bytes of <paramref name="data"/> are whole frames; grows the buffer for a frame that cannot fit.</summary>
    private static int WholeFrames(byte[] data, int filled, ref byte[] buffer)
    {
        int at = 0;
        while (filled - at >= 5)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at));
            if (filled - at < 5 + length)
            {
                if (5 + length > buffer.Length)
                {
                    Array.Resize(ref buffer, 5 + length);
                }

                break;
            }

            at += 5 + length;
        }

        return at;
    }

    /// <summary>Starts an echo child of <paramref name="style"/> over <paramref name="kind"/> and measures everything against it.</summary>
    public static Result Measure(Kind kind, Style style, int roundTrips, int echoes, int batchedFrames)
    {
        string? directory = null;
        Socket listener;
        string endpointArgument;
        if (kind == Kind.Unix)
        {
            directory = Directory.CreateTempSubdirectory("ppsharp-bench-").FullName;
            string path = Path.Combine(directory, "raw.sock");
            listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            endpointArgument = path;
        }
        else
        {
            listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            endpointArgument = ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        listener.Listen(1);
        long started = Stopwatch.GetTimestamp();
        using Process child = ChildProcess.StartSelf(EchoMode, kind == Kind.Unix ? "unix" : "tcp", endpointArgument, style == Style.Async ? "async" : "sync");
        try
        {
            using var accepting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Socket socket = listener.AcceptAsync(accepting.Token).AsTask().GetAwaiter().GetResult();
            double processStartMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            listener.Dispose();
            if (kind == Kind.Tcp)
            {
                socket.NoDelay = true;
            }

            using var stream = new NetworkStream(socket, ownsSocket: true);
            Stats roundTrip = style == Style.Sync ? PingPongSync(stream, roundTrips) : PingPongAsync(stream, roundTrips).GetAwaiter().GetResult();
            double echo = Echo8MiB(stream, echoes);
            double batched = Batched(stream, batchedFrames);
            socket.Shutdown(SocketShutdown.Send);
            child.WaitForExit(10_000);
            return new Result(kind, style, processStartMs, roundTrip, echo, batched);
        }
        finally
        {
            ChildProcess.KillIfRunning(child);
            listener.Dispose();
            if (directory is not null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static byte[] SmallFrame()
    {
        byte[] frame = new byte[5 + SmallPayload];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, SmallPayload);
        frame[4] = 3;
        return frame;
    }

    private static Stats PingPongSync(NetworkStream stream, int count)
    {
        byte[] frame = SmallFrame();
        byte[] back = new byte[frame.Length];
        int warmUp = Math.Max(100, count / 10);
        var samples = new long[count];
        for (int i = -warmUp; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            stream.Write(frame);
            stream.ReadExactly(back);
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetTimestamp() - t0;
            }
        }

        return BestBlock(samples);
    }

    /// <summary>
    /// The statistics of the best of four consecutive blocks (by median): a transient disturbance (a timer, a page
    /// reclaim, the other vCPU descheduled) does not set the limit.
    /// </summary>
    private static Stats BestBlock(long[] samples)
    {
        int size = samples.Length / 4;
        return Enumerable.Range(0, 4).Select(b => Stats.FromTimestamps(samples[(b * size)..((b + 1) * size)])).MinBy(s => s.MedianMicros)!;
    }

    private static async Task<Stats> PingPongAsync(NetworkStream stream, int count)
    {
        byte[] frame = SmallFrame();
        byte[] back = new byte[frame.Length];
        int warmUp = Math.Max(100, count / 10);
        var samples = new long[count];
        for (int i = -warmUp; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await stream.WriteAsync(frame);
            await stream.ReadExactlyAsync(back);
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetTimestamp() - t0;
            }
        }

        return BestBlock(samples);
    }

    /// <summary>An 8 MiB frame sent and echoed back, repeatedly: MiB/s of one 8 MiB round trip (median).</summary>
    private static double Echo8MiB(NetworkStream stream, int count)
    {
        const int size = 8 << 20;
        byte[] frame = new byte[5 + size];
        Random.Shared.NextBytes(frame);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, size);
        frame[4] = 3;
        byte[] back = new byte[frame.Length];
        var samples = new long[count];
        for (int i = -2; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            stream.Write(frame);
            stream.ReadExactly(back);
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetTimestamp() - t0;
            }
        }

        return 8.0 / Stats.FromTimestamps(samples).MedianSeconds;
    }

    /// <summary>Small frames written many per system call while a reader drains the echoes: frames/s of the transport alone.</summary>
    private static double Batched(NetworkStream stream, int frames)
    {
        byte[] one = SmallFrame();
        const int perWrite = 2048;
        byte[] batch = new byte[one.Length * perWrite];
        for (int i = 0; i < perWrite; i++)
        {
            one.CopyTo(batch, i * one.Length);
        }

        long expected = (long)frames * one.Length;
        long t0 = Stopwatch.GetTimestamp();
        var reader = Task.Run(() =>
        {
            byte[] sink = new byte[256 * 1024];
            long received = 0;
            while (received < expected)
            {
                int read = stream.Read(sink);
                if (read == 0)
                {
                    throw new EndOfStreamException("The echo child closed the connection.");
                }

                received += read;
            }
        });
        for (int sent = 0; sent < frames; sent += perWrite)
        {
            stream.Write(batch, 0, Math.Min(perWrite, frames - sent) * one.Length);
        }

        reader.GetAwaiter().GetResult();
        return frames / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }
}
