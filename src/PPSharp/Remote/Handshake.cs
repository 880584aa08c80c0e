using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using MessagePack;
using PPSharp.Protocol;

namespace PPSharp.Remote;

/// <summary>
/// Mutual challenge-response on a node connection, in which the connecting side proves first. Both sides send
/// <c>NodeHello</c> at once (protocol version, role, a fresh 32-byte nonce; the node's also carries its salt). The
/// client then sends <c>AuthProof</c>: HMAC-SHA256 keyed with <see cref="SecretKey"/> (PBKDF2 of the secret with the
/// node's salt) over a label, its role and both nonces. Only once that checks does the node send its own proof, so a
/// peer without the secret learns nothing from the node it could test guesses against offline; someone who records a
/// genuine handshake pays a PBKDF2 derivation per guess. The role in the MAC stops a proof being reflected back; the
/// nonces make a recorded handshake useless. After the proofs both directions are sealed (<see cref="FrameProtection"/>)
/// with keys derived by <see cref="SessionKeys"/>.
/// </summary>
internal static class Handshake
{
    /// <summary>Nothing but the handshake is read before authentication, and no handshake frame is larger.</summary>
    public const int PreAuthenticationMaxPayload = 1024;

    public const string ClientRole = "client";
    public const string NodeRole = "node";

    private const int NonceSize = 32;
    private const int ProofSize = 32;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    /// <summary>A hello: the node's carries its salt, the client's none.</summary>
    public static Signal Hello(string role, byte[] nonce, byte[]? salt = null) => Signal.Of(MessageType.NodeHello, (ref MessagePackWriter w) =>
    {
        w.Write(Messages.ProtocolVersion);
        w.Write(role);
        w.Write(nonce);
        if (salt is not null)
        {
            w.Write(salt);
        }
    });

    /// <summary>Reads a hello from <paramref name="expectedRole"/>: its nonce, and the node's salt (null from a client).</summary>
    /// <exception cref="ProtocolException">The hello is malformed, from the wrong role, or of another protocol version.</exception>
    public static (byte[] Nonce, byte[]? Salt) ReadHello(ReadOnlySequence<byte> payload, string expectedRole)
    {
        int version;
        string? role;
        byte[]? nonce;
        byte[]? salt = null;
        try
        {
            var reader = new MessagePackReader(payload);
            version = reader.ReadInt32();
            if (version != Messages.ProtocolVersion)
            {
                throw new ProtocolException($"protocol version mismatch: this side speaks version {Messages.ProtocolVersion}, the peer version {version}.");
            }

            role = reader.ReadString();
            nonce = reader.ReadBytes()?.ToArray();
            if (expectedRole == NodeRole)
            {
                salt = reader.ReadBytes()?.ToArray();
            }

            if (!reader.End)
            {
                throw new ProtocolException("a malformed hello.");
            }
        }
        catch (Exception ex) when (Malformed.Is(ex))
        {
            throw new ProtocolException("a malformed hello.");
        }

        if (role != expectedRole || nonce is not { Length: NonceSize } || (expectedRole == NodeRole && salt is not { Length: SecretKey.SaltSize }))
        {
            throw new ProtocolException("a malformed hello.");
        }

        return (nonce, salt);
    }

    public static Signal Proof(byte[] key, string role, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[] proof = Compute(key, role, clientNonce, nodeNonce);
        return Signal.Of(MessageType.AuthProof, (ref MessagePackWriter w) => w.Write(proof));
    }

    /// <summary>The proof bytes of an AuthProof payload; null when malformed.</summary>
    public static byte[]? ReadProof(ReadOnlySequence<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            byte[]? proof = reader.ReadBytes()?.ToArray();
            return reader.End && proof is { Length: ProofSize } ? proof : null;
        }
        catch (Exception ex) when (Malformed.Is(ex))
        {
            return null;
        }
    }

    /// <summary>Checks the peer's proof for <paramref name="peerRole"/>, in constant time.</summary>
    public static bool Verify(byte[]? proof, byte[] key, string peerRole, byte[] clientNonce, byte[] nodeNonce) =>
        proof is not null && CryptographicOperations.FixedTimeEquals(proof, Compute(key, peerRole, clientNonce, nodeNonce));

    public static bool Verify(ReadOnlySequence<byte> payload, byte[] key, string peerRole, byte[] clientNonce, byte[] nodeNonce) =>
        Verify(ReadProof(payload), key, peerRole, clientNonce, nodeNonce);

    /// <summary>
    /// The two directions' frame keys: HKDF-SHA256 over the derived secret, salted with both nonces, one label per
    /// direction, so neither side ever encrypts under the other's key and every connection has keys of its own.
    /// </summary>
    public static (byte[] ClientToNode, byte[] NodeToClient) SessionKeys(byte[] key, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[] salt = [.. clientNonce, .. nodeNonce];
        byte[] Expand(string label) => HKDF.DeriveKey(HashAlgorithmName.SHA256, key, FrameProtection.KeySize, salt, Encoding.UTF8.GetBytes($"PPSharp-frames-v{Messages.ProtocolVersion}:{label}"));
        return (Expand("client-to-node"), Expand("node-to-client"));
    }

    public static string ReadError(ReadOnlySequence<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            return reader.ReadString() ?? "no reason given";
        }
        catch (Exception ex) when (Malformed.Is(ex))
        {
            return "no reason given";
        }
    }

    private static byte[] Compute(byte[] key, string role, byte[] clientNonce, byte[] nodeNonce)
    {
        byte[] label = Encoding.UTF8.GetBytes($"PPSharp-auth-v{Messages.ProtocolVersion}:{role}:");
        byte[] data = [.. label, .. clientNonce, .. nodeNonce];
        return HMACSHA256.HashData(key, data);
    }
}
