using System.Buffers;
using PPSharp.Protocol;
using PPSharp.Remote;

namespace PPSharp.Fuzz;

/// <summary>Valid inputs for each target, the campaign's starting corpus (<c>PPSharp.Fuzz --seeds DIR</c>).</summary>
internal static class Seeds
{
    public static void Write(string directory)
    {
        byte[] nonce = new byte[32], salt = new byte[SecretKey.SaltSize];
        byte[] hello = Payload(Handshake.Hello(Handshake.NodeRole, nonce, salt));
        byte[] clientHello = Payload(Handshake.Hello(Handshake.ClientRole, nonce));
        byte[] proof = Payload(Handshake.Proof(new byte[32], Handshake.ClientRole, nonce, nonce));
        byte[] succeeded = Payload(new Messages.JobSucceeded(7, 1000, "output", new byte[] { 0x92, 1, 2 }));
        byte[] failed = Payload(new Messages.JobFailed(7, 1000, null, "System.Exception", "message", "stack"));
        var frames = new ArrayBufferWriter<byte>();
        var counter = new FrameCodec.CountingWriter(frames);
        FrameCodec.Write(counter, Handshake.Hello(Handshake.ClientRole, nonce), int.MaxValue);
        FrameCodec.Write(counter, Signal.Ping, int.MaxValue);
        var sealedFrames = new ArrayBufferWriter<byte>();
        using (var sealer = new FrameSealer(new byte[FrameProtection.KeySize]))
        {
            sealer.Add(Signal.Ping, int.MaxValue);
            sealer.Seal(sealedFrames);
            sealer.Add(Signal.Ping, int.MaxValue);
            sealer.Add(new Signal(MessageType.JobSucceeded, succeeded), int.MaxValue);
            sealer.Seal(sealedFrames);
        }

        Save(directory, "frame", "two-frames", frames.WrittenSpan.ToArray());
        Save(directory, "sealed", "two-sealed-records", sealedFrames.WrittenSpan.ToArray());
        Save(directory, "hello", "node-hello", hello);
        Save(directory, "hello", "client-hello", clientHello);
        Save(directory, "hello", "proof", proof);
        Save(directory, "result", "succeeded", succeeded);
        Save(directory, "result", "failed", failed);
        Save(directory, "define", "array-of-10", [0x9a, 1, 0xa1, 0x41, 0xa1, 0x42, 2, 0x90, 0, 0xc0, 0xc0, 0x90, 0xc0]);
    }

    private static byte[] Payload(IOutgoingFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>();
        frame.WritePayload(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Save(string directory, string target, string name, byte[] bytes)
    {
        string folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
    }
}
