using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using MessagePack;
using PPSharp.Protocol;

namespace PPSharp.Remote;

/// <summary>
/// Mutual challenge-response on a node connection. Each side sends <c>NodeHello</c> (protocol version, role, a fresh
/// 32-byte nonce), then <c>AuthProof</c>: HMAC-SHA256 keyed with the shared secret over a label, the sender's role
/// and both nonces (client's first). The secret never crosses the wire; a recorded handshake is useless because the
/// other side's nonce is new each time; the role in the MAC stops a proof being reflected back. Proofs are compared
/// in constant time.
/// </summary>
internal static class Handshake
{
    /// <summary>Nothing but the handshake is read before authentication, and no handshake frame is larger.</summary>
    public const int PreAuthenticationMaxPayload = 1024;

    public const string ClientRole = "client";
    public const string NodeRole = "node";

    private const int NonceSize = 32;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    public static Signal Hello(string role, byte[] nonce) => Signal.Of(MessageType.NodeHello, (ref MessagePackWriter w) =>
    {
        w.Write(Messages.ProtocolVersion);
        w.Write(role);
        w.Write(nonce);
    });

    /// <exception cref="ProtocolException">The hello is malformed, from the wrong role, or of another protocol version.</exception>
    public static byte[] ReadHello(ReadOnlySequence<byte> payload, string expectedRole)
    {
        int version;
        string? role;
        byte[]? nonce;
        try
        {
            var reader = new MessagePackReader(payload);
            version = reader.ReadInt32();
            role = reader.ReadString();
            nonce = reader.ReadBytes()?.ToArray();
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            throw new ProtocolException("a malformed hello.");
        }

        if (version != Messages.ProtocolVersion)
        {
            throw new ProtocolException($"protocol version mismatch: this side speaks version {Messages.ProtocolVersion}, the peer version {version}.");
        }

        if (role != expectedRole || nonce is not { Length: NonceSize })
        {
            throw new ProtocolException("a malformed hello.");
        }

        return nonce;
    }

    public static Signal Proof(string secret, string role, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[] proof = Compute(secret, role, clientNonce, nodeNonce);
        return Signal.Of(MessageType.AuthProof, (ref MessagePackWriter w) => w.Write(proof));
    }

    /// <summary>Checks the peer's proof for <paramref name="peerRole"/>, in constant time.</summary>
    public static bool Verify(ReadOnlySequence<byte> payload, string secret, string peerRole, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[]? proof;
        try
        {
            var reader = new MessagePackReader(payload);
            proof = reader.ReadBytes()?.ToArray();
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            return false;
        }

        return proof is not null && CryptographicOperations.FixedTimeEquals(proof, Compute(secret, peerRole, clientNonce, nodeNonce));
    }

    public static string ReadError(ReadOnlySequence<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            return reader.ReadString() ?? "no reason given";
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            return "no reason given";
        }
    }

    private static byte[] Compute(string secret, string role, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[] label = Encoding.UTF8.GetBytes($"PPSharp-auth-v{Messages.ProtocolVersion}:{role}:");
        byte[] data = [.. label, .. clientNonce, .. nodeNonce];
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data);
    }
}
