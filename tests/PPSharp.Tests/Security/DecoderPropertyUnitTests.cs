using System.Buffers;
using CsCheck;
using PPSharp.Protocol;
using PPSharp.Remote;
using PPSharp.Serialization;

namespace PPSharp.Tests.Security;

/// <summary>
/// Property-based tests (CsCheck) of everything that decodes what a peer sends: random bytes and mutations of valid
/// frames, for a couple of seconds each. A decoder may refuse its input (with <see cref="ProtocolException"/>, which
/// closes that connection only), and a sealed frame that was changed must never open to a payload other than the
/// one sealed.
/// </summary>
public sealed class DecoderPropertyUnitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Seconds per property: long enough for tens of thousands of inputs, short enough for CI.</summary>
    private const int Seconds = 2;

    private static readonly Gen<byte[]> AnyBytes = Gen.Byte.Array[0, 600];

    /// <summary>Runs the property for <see cref="Seconds"/> on one thread; the test's output says how many inputs it tried.</summary>
    private void Sample<T>(Gen<T> gen, Action<T> property) => gen.Sample(property, writeLine: output.WriteLine, iter: -1, time: Seconds, threads: 1);

    /// <summary>A valid input with up to four random changes: bytes flipped, cut short, or extended.</summary>
    private static Gen<byte[]> Mutations(byte[] valid) =>
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, Math.Max(0, valid.Length - 1)].Array[1, 4], Gen.Byte.Array[1, 4], Gen.Int[0, valid.Length], (kind, positions, values, cut) =>
        {
            byte[] copy = (byte[])valid.Clone();
            switch (kind)
            {
                case 0:
                case 1:
                    for (int i = 0; i < positions.Length && copy.Length > 0; i++)
                    {
                        copy[positions[i]] ^= values[i % values.Length] == 0 ? (byte)1 : values[i % values.Length];
                    }

                    return copy;
                case 2:
                    return copy[..cut];
                default:
                    return [.. copy, .. values];
            }
        });

    private static void RefusesOrReads(Action decode)
    {
        try
        {
            decode();
        }
        catch (ProtocolException)
        {
        }
    }

    [Fact]
    public void FrameDecoder_OnRandomBytes_ReturnsFramesInsideTheInputOrRefuses()
    {
        Sample(Gen.Select(AnyBytes, Gen.Int[0, 600]), input =>
        {
            (byte[] bytes, int limit) = input;
            var buffer = new ReadOnlySequence<byte>(bytes);
            RefusesOrReads(() =>
            {
                while (FrameCodec.TryRead(ref buffer, limit, out _, out ReadOnlySequence<byte> payload))
                {
                    Assert.True(payload.Length <= limit);
                }
            });
        });
    }

    [Fact]
    public void SealedFrame_Mutated_NeverOpensToAnotherPayload()
    {
        byte[] key = FrameProtectionUnitTests.Key(9);
        byte[] payload = [.. Enumerable.Range(0, 40).Select(i => (byte)i)];
        byte[] wire = FrameProtectionUnitTests.Seal(key, new RawFrame(MessageType.RunJob, payload))[0];
        Sample(Mutations(wire), mutated =>
        {
            RefusesOrReads(() =>
            {
                List<(MessageType Type, byte[] Payload)> frames = FrameProtectionUnitTests.Open(key, mutated);
                Assert.True(frames.Count == 0 || (frames.Count == 1 && frames[0].Type == MessageType.RunJob && frames[0].Payload.SequenceEqual(payload)));
            });
        });
    }

    [Fact]
    public void Hellos_RandomOrMutated_AreReadOrRefused()
    {
        byte[] valid = FrameProtectionUnitTests.Payload(Handshake.Hello(Handshake.NodeRole, Handshake.NewNonce(), SecretKey.NewSalt())).ToArray();
        Sample(Gen.OneOf(AnyBytes, Mutations(valid)), bytes =>
        {
            RefusesOrReads(() =>
            {
                (byte[] nonce, byte[]? salt) = Handshake.ReadHello(new ReadOnlySequence<byte>(bytes), Handshake.NodeRole);
                Assert.Equal(32, nonce.Length);
                Assert.Equal(SecretKey.SaltSize, salt?.Length);
            });
            RefusesOrReads(() => Handshake.ReadHello(new ReadOnlySequence<byte>(bytes), Handshake.ClientRole));
        });
    }

    [Fact]
    public async Task Proofs_RandomOrMutated_NeverCheck()
    {
        byte[] key = await SecretKey.DeriveAsync("property", new byte[SecretKey.SaltSize]);
        byte[] clientNonce = Handshake.NewNonce(), nodeNonce = Handshake.NewNonce();
        byte[] valid = FrameProtectionUnitTests.Payload(Handshake.Proof(key, Handshake.ClientRole, clientNonce, nodeNonce)).ToArray();
        Sample(Gen.OneOf(AnyBytes, Mutations(valid)), bytes =>
        {
            bool checks = Handshake.Verify(new ReadOnlySequence<byte>(bytes), key, Handshake.ClientRole, clientNonce, nodeNonce);
            Assert.Equal(bytes.AsSpan().SequenceEqual(valid), checks);
            _ = Handshake.ReadError(new ReadOnlySequence<byte>(bytes));
        });
    }

    [Fact]
    public void ResultMessages_RandomOrMutated_AreReadOrRefused()
    {
        var frame = new Messages.JobSucceeded(42, 1234, "some output", new byte[] { 0x93, 1, 2, 3 });
        byte[] valid = FrameProtectionUnitTests.Payload(frame).ToArray();
        Sample(Gen.OneOf(AnyBytes, Mutations(valid)), bytes =>
        {
            RefusesOrReads(() => Messages.ReadResult(MessageType.JobSucceeded, new ReadOnlySequence<byte>(bytes), "node"));
            RefusesOrReads(() => Messages.ReadResult(MessageType.JobFailed, new ReadOnlySequence<byte>(bytes), "node"));
        });
    }

    [Fact]
    public void NodeLoads_RandomOrMutated_AreReadOrRefused_WithinTheirBound()
    {
        var load = new Messages.NodeLoad(987_654_321, 3, [new Messages.WorkerLoad(1234, 90_000_000, 55_000_000, true), new Messages.WorkerLoad(1240, 80_000_000, 0, false)]);
        byte[] valid = FrameProtectionUnitTests.Payload(load).ToArray();
        Sample(Gen.OneOf(AnyBytes, Mutations(valid)), bytes =>
        {
            RefusesOrReads(() =>
            {
                Messages.NodeLoad read = Messages.NodeLoad.Read(new ReadOnlySequence<byte>(bytes));
                Assert.InRange(read.Workers.Count, 0, Math.Min(read.WorkerCount, Messages.NodeLoad.MaxWorkers));
                Assert.All(read.Workers, w => Assert.True(w.ProcessId > 0 && w.ResidentBytes >= 0 && w.CpuTicks >= 0));
            });
        });
    }

    [Fact]
    public void FunctionDefinitions_Random_AreReadOrRefused()
    {
        Sample(AnyBytes, bytes => RefusesOrReads(() => FunctionDescription.Read(new ReadOnlySequence<byte>(bytes))));
    }
}
