using System.Buffers;
using PPSharp.Protocol;
using PPSharp.Remote;
using PPSharp.Serialization;

namespace PPSharp.Fuzz;

/// <summary>
/// The decoders that read what a peer sends, one fuzz target each. A target may refuse its input with
/// <see cref="ProtocolException"/> (the connection it came on is closed, nothing more); any other exception, a hang
/// or a crash is a finding. Compiled into the SharpFuzz harness and into the test project, which replays the kept
/// corpus (<c>fuzz/corpus/&lt;target&gt;/</c>) through the same code in CI.
/// </summary>
internal static class FuzzTargets
{
    private static readonly byte[] Key = new byte[FrameProtection.KeySize];

    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["frame"] = Frames,
        ["sealed"] = SealedFrames,
        ["hello"] = Hellos,
        ["result"] = Results,
        ["define"] = Definitions,
    };

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; refusals are expected, anything else throws.</summary>
    public static void Run(string target, byte[] input)
    {
        try
        {
            All[target](input);
        }
        catch (ProtocolException)
        {
        }
    }

    /// <summary>Frames off a received buffer, with the pre-authentication limit and without one.</summary>
    private static void Frames(byte[] input)
    {
        foreach (int limit in (ReadOnlySpan<int>)[Handshake.PreAuthenticationMaxPayload, int.MaxValue])
        {
            var buffer = new ReadOnlySequence<byte>(input);
            try
            {
                while (FrameCodec.TryRead(ref buffer, limit, out _, out ReadOnlySequence<byte> payload))
                {
                    if (payload.Length > limit)
                    {
                        throw new InvalidOperationException("A frame over the limit was returned.");
                    }
                }
            }
            catch (ProtocolException)
            {
            }
        }
    }

    /// <summary>Sealed records opened, and their frames read, as a node connection does after the handshake (a fixed key).</summary>
    private static void SealedFrames(byte[] input)
    {
        using var opener = new FrameOpener(Key);
        var buffer = new ReadOnlySequence<byte>(input);
        while (FrameOpener.TryReadRecord(ref buffer, FrameProtection.MaxRecord(int.MaxValue), out ReadOnlySequence<byte> record))
        {
            using FrameOpener.Opened opened = opener.Open(record);
            ReadOnlySequence<byte> frames = opened.Payload;
            while (FrameCodec.TryRead(ref frames, int.MaxValue, out _, out _))
            {
            }
        }
    }

    /// <summary>The handshake's messages: hellos of both roles, a proof, an error.</summary>
    private static void Hellos(byte[] input)
    {
        var payload = new ReadOnlySequence<byte>(input);
        try
        {
            Handshake.ReadHello(payload, Handshake.NodeRole);
        }
        catch (ProtocolException)
        {
        }

        try
        {
            Handshake.ReadHello(payload, Handshake.ClientRole);
        }
        catch (ProtocolException)
        {
        }

        Handshake.ReadProof(payload);
        Handshake.ReadError(payload);
    }

    /// <summary>JobSucceeded and JobFailed payloads, as a client reads a node's answers.</summary>
    private static void Results(byte[] input)
    {
        var payload = new ReadOnlySequence<byte>(input);
        try
        {
            Messages.ReadResult(MessageType.JobSucceeded, payload, "fuzz");
        }
        catch (ProtocolException)
        {
        }

        Messages.ReadResult(MessageType.JobFailed, payload, "fuzz");
    }

    /// <summary>DefineFunction payloads, as a node reads a client's functions.</summary>
    private static void Definitions(byte[] input) => FunctionDescription.Read(new ReadOnlySequence<byte>(input));
}
