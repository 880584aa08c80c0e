using System.Buffers;
using System.IO.Pipelines;
using PPSharp.Protocol;
using PPSharp.Remote;

namespace PPSharp.Tests.Security;

/// <summary>In-memory tests of the sealed frames and the handshake's keys: no processes, no sockets.</summary>
public sealed class FrameProtectionUnitTests
{
    internal static byte[] Key(byte seed) => Enumerable.Range(0, FrameProtection.KeySize).Select(i => (byte)(i * 7 + seed)).ToArray();

    /// <summary>Seals each frame as a record of its own, as a write loop that flushes after each; returns each record's bytes.</summary>
    internal static List<byte[]> Seal(byte[] key, params IOutgoingFrame[] frames)
    {
        using var sealer = new FrameSealer(key);
        var result = new List<byte[]>();
        foreach (IOutgoingFrame frame in frames)
        {
            var output = new ArrayBufferWriter<byte>();
            sealer.Add(frame, int.MaxValue);
            sealer.Seal(output);
            result.Add(output.WrittenSpan.ToArray());
        }

        return result;
    }

    /// <summary>Reads records off <paramref name="wire"/> and opens them, in order, as a read loop does; returns the frames.</summary>
    internal static List<(MessageType Type, byte[] Payload)> Open(byte[] key, params byte[][] wire)
    {
        using var opener = new FrameOpener(key);
        var result = new List<(MessageType, byte[])>();
        var buffer = new ReadOnlySequence<byte>(wire.SelectMany(bytes => bytes).ToArray());
        while (FrameOpener.TryReadRecord(ref buffer, int.MaxValue, out ReadOnlySequence<byte> record))
        {
            using FrameOpener.Opened opened = opener.Open(record);
            ReadOnlySequence<byte> frames = opened.Payload;
            while (FrameCodec.TryRead(ref frames, int.MaxValue, out MessageType type, out ReadOnlySequence<byte> payload))
            {
                result.Add((type, payload.ToArray()));
            }

            Assert.True(frames.IsEmpty);
        }

        return result;
    }

    [Fact]
    public void FramesSealedTogether_OpenAsOneRecord_InOrder()
    {
        using var sealer = new FrameSealer(Key(7));
        var output = new ArrayBufferWriter<byte>();
        for (byte i = 0; i < 50; i++)
        {
            sealer.Add(new RawFrame(MessageType.RunJob, [i]), int.MaxValue);
        }

        sealer.Seal(output);
        sealer.Seal(output); // nothing pending: no empty record

        List<(MessageType Type, byte[] Payload)> opened = Open(Key(7), output.WrittenSpan.ToArray());

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i), opened.Select(f => f.Payload.Single()));
        Assert.Equal(FrameCodec.HeaderSize + (50 * 6) + FrameProtection.TagSize, output.WrittenCount);
    }

    [Fact]
    public void SealedFrames_OpenToTheSamePayloads_InOrder()
    {
        byte[] big = new byte[300_000];
        new Random(1).NextBytes(big);
        List<byte[]> wire = Seal(Key(1), new RawFrame(MessageType.RunJob, [1, 2, 3]), new RawFrame(MessageType.Ping, []), new RawFrame(MessageType.JobSucceeded, big));

        List<(MessageType Type, byte[] Payload)> opened = Open(Key(1), [.. wire]);

        Assert.Equal([MessageType.RunJob, MessageType.Ping, MessageType.JobSucceeded], opened.Select(f => f.Type));
        Assert.Equal(new byte[] { 1, 2, 3 }, opened[0].Payload);
        Assert.Empty(opened[1].Payload);
        Assert.Equal(big, opened[2].Payload);
        Assert.False(wire[2].AsSpan(5, 64).SequenceEqual(big.AsSpan(0, 64))); // the payload is not in the clear
    }

    [Fact]
    public void OpeningAcrossSegments_GivesTheSamePayload()
    {
        byte[] payload = new byte[10_000];
        new Random(2).NextBytes(payload);
        byte[] wire = Seal(Key(2), new RawFrame(MessageType.RunJob, payload))[0];
        ReadOnlySequence<byte> split = Segments.Split(wire, 5, 100, 4_000, 9_990);

        using var opener = new FrameOpener(Key(2));
        Assert.True(FrameOpener.TryReadRecord(ref split, int.MaxValue, out ReadOnlySequence<byte> record));
        using FrameOpener.Opened opened = opener.Open(record);

        Assert.Equal(payload, opened.Payload.Slice(FrameCodec.HeaderSize).ToArray());
    }

    [Theory]
    [InlineData(0)] // a length byte
    [InlineData(4)] // the record type
    [InlineData(5)] // the first ciphertext byte
    [InlineData(-1)] // the last tag byte
    public void AFrameWithAnyByteChanged_FailsToOpen(int position)
    {
        byte[] wire = Seal(Key(3), new RawFrame(MessageType.RunJob, [10, 20, 30, 40]))[0];
        int at = position < 0 ? wire.Length + position : position;
        wire[at] ^= 0x01;

        // Either the record is never whole (a longer length: the reader waits for bytes that never come), or it is refused.
        Exception? error = Record.Exception(() => Assert.Empty(Open(Key(3), wire)));

        Assert.True(error is null or ProtocolException, $"unexpected {error}");
        if (at != 0)
        {
            Assert.IsType<ProtocolException>(error);
        }
    }

    [Fact]
    public void AReplayedFrame_FailsToOpen()
    {
        List<byte[]> wire = Seal(Key(4), new RawFrame(MessageType.RunJob, [1]), new RawFrame(MessageType.RunJob, [2]));

        Assert.Throws<ProtocolException>(() => Open(Key(4), wire[0], wire[0]));
    }

    [Fact]
    public void ALargeFrame_IsSealedInTheOutputsOwnPieces_AndOpensWhole()
    {
        byte[] payload = new byte[3_000_000];
        new Random(7).NextBytes(payload);
        using var sealer = new FrameSealer(Key(9));
        var output = new PieceRecordingWriter();

        sealer.Add(new RawFrame(MessageType.AssemblyData, payload), int.MaxValue);
        sealer.Seal(output);

        // Never one buffer of the record's size from the output (a pipe would rent it from the shared pool for good).
        Assert.True(output.LargestAsked <= 64 * 1024, $"the sealer asked the output for {output.LargestAsked} bytes at once");
        (MessageType type, byte[] opened) = Assert.Single(Open(Key(9), output.Written.ToArray()));
        Assert.Equal(MessageType.AssemblyData, type);
        Assert.Equal(payload, opened);
    }

    /// <summary>An output that hands out pieces of at most 64 KiB, as a pipe does, and records the largest size asked for.</summary>
    private sealed class PieceRecordingWriter : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _inner = new();

        public int LargestAsked { get; private set; }

        public ReadOnlyMemory<byte> Written => _inner.WrittenMemory;

        public void Advance(int count) => _inner.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            LargestAsked = Math.Max(LargestAsked, sizeHint);
            return _inner.GetMemory(64 * 1024)[..(64 * 1024)];
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }

    [Fact]
    public void ReorderedFrames_FailToOpen()
    {
        List<byte[]> wire = Seal(Key(5), new RawFrame(MessageType.RunJob, [1]), new RawFrame(MessageType.RunJob, [2]));

        Assert.Throws<ProtocolException>(() => Open(Key(5), wire[1], wire[0]));
    }

    [Fact]
    public async Task AFrameSealedUnderTheOtherDirectionsKey_FailsToOpen()
    {
        byte[] secret = await SecretKey.DeriveAsync("a secret", new byte[SecretKey.SaltSize]);
        byte[] clientNonce = Handshake.NewNonce(), nodeNonce = Handshake.NewNonce();
        (byte[] toNode, byte[] toClient) = Handshake.SessionKeys(secret, clientNonce, nodeNonce);
        List<byte[]> wire = Seal(toClient, new RawFrame(MessageType.JobSucceeded, [6]));

        Assert.NotEqual(toNode, toClient);
        Assert.Throws<ProtocolException>(() => Open(toNode, [.. wire])); // a node's frame reflected back to it
        Assert.Equal(new byte[] { 6 }, Open(toClient, [.. wire])[0].Payload);
    }

    [Fact]
    public async Task SessionKeys_DifferPerConnection_AndAgreeOnBothSides()
    {
        byte[] secret = await SecretKey.DeriveAsync("a secret", new byte[SecretKey.SaltSize]);
        byte[] clientNonce = Handshake.NewNonce(), nodeNonce = Handshake.NewNonce();

        (byte[] toNode, byte[] toClient) = Handshake.SessionKeys(secret, clientNonce, nodeNonce);
        (byte[] toNodeAgain, byte[] toClientAgain) = Handshake.SessionKeys(secret, clientNonce, nodeNonce);

        Assert.Equal(toNode, toNodeAgain);
        Assert.Equal(toClient, toClientAgain);
        Assert.NotEqual(Handshake.SessionKeys(secret, clientNonce, nodeNonce).ClientToNode, Handshake.SessionKeys(secret, Handshake.NewNonce(), nodeNonce).ClientToNode);
    }

    [Fact]
    public async Task SecretKey_DependsOnTheSalt_AndIsComputedOncePerSalt()
    {
        byte[] salt = SecretKey.NewSalt();

        byte[] first = await SecretKey.DeriveAsync("sunshine7", salt);
        byte[] again = await SecretKey.DeriveAsync("sunshine7", salt);

        Assert.Same(first, again); // cached: the slow derivation runs once per process and salt
        Assert.NotEqual(first, await SecretKey.DeriveAsync("sunshine7", SecretKey.NewSalt()));
        Assert.NotEqual(first, await SecretKey.DeriveAsync("sunshine8", salt));
    }

    [Fact]
    public async Task SecretKey_ManyAskingAtOnceForOneSalt_ShareOneDerivation()
    {
        byte[] salt = SecretKey.NewSalt();

        Task<byte[]>[] asked = [.. Enumerable.Range(0, 16).Select(_ => Task.Run(() => SecretKey.DeriveAsync("shared", salt)))];
        byte[][] keys = await Task.WhenAll(asked);

        Assert.All(keys, key => Assert.Same(keys[0], key));
    }

    [Fact]
    public async Task Proofs_CheckOnlyWithTheRightKeyRoleAndNonces()
    {
        byte[] key = await SecretKey.DeriveAsync("right", new byte[SecretKey.SaltSize]);
        byte[] wrong = await SecretKey.DeriveAsync("wrong", new byte[SecretKey.SaltSize]);
        byte[] clientNonce = Handshake.NewNonce(), nodeNonce = Handshake.NewNonce();
        ReadOnlySequence<byte> proof = Payload(Handshake.Proof(key, Handshake.ClientRole, clientNonce, nodeNonce));

        Assert.True(Handshake.Verify(proof, key, Handshake.ClientRole, clientNonce, nodeNonce));
        Assert.False(Handshake.Verify(proof, wrong, Handshake.ClientRole, clientNonce, nodeNonce));
        Assert.False(Handshake.Verify(proof, key, Handshake.NodeRole, clientNonce, nodeNonce)); // not reflectable
        Assert.False(Handshake.Verify(proof, key, Handshake.ClientRole, Handshake.NewNonce(), nodeNonce)); // not replayable
    }

    [Fact]
    public void NodeHello_CarriesTheSalt_AndAClientHelloWithoutOneIsRefusedAsANodes()
    {
        byte[] nonce = Handshake.NewNonce(), salt = SecretKey.NewSalt();

        (byte[] readNonce, byte[]? readSalt) = Handshake.ReadHello(Payload(Handshake.Hello(Handshake.NodeRole, nonce, salt)), Handshake.NodeRole);

        Assert.Equal(nonce, readNonce);
        Assert.Equal(salt, readSalt);
        Assert.Throws<ProtocolException>(() => Handshake.ReadHello(Payload(Handshake.Hello(Handshake.NodeRole, nonce)), Handshake.NodeRole));
        Assert.Throws<ProtocolException>(() => Handshake.ReadHello(Payload(Handshake.Hello(Handshake.NodeRole, nonce, salt)), Handshake.ClientRole));
    }

    internal static ReadOnlySequence<byte> Payload(IOutgoingFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>();
        frame.WritePayload(buffer);
        return new ReadOnlySequence<byte>(buffer.WrittenMemory);
    }
}

/// <summary>Builds multi-segment sequences, as a pipe hands out data that arrived in pieces.</summary>
internal static class Segments
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        int[] points = [0, .. cuts.Where(c => c > 0 && c < bytes.Length).Order(), bytes.Length];
        var first = new Segment(bytes.AsMemory(points[0], points[1] - points[0]), 0);
        Segment last = first;
        for (int i = 1; i < points.Length - 1; i++)
        {
            last = last.Append(bytes.AsMemory(points[i], points[i + 1] - points[i]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
