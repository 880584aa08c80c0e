using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PPSharp.Protocol;

/// <summary>
/// Authenticated encryption of the frames of one direction of a node connection after its handshake: AES-256-GCM with
/// a key of that direction alone and the frame's sequence number as the nonce, so a frame that is altered, replayed,
/// dropped or moved fails to open and closes the connection. Local worker channels never use it.
/// </summary>
/// <remarks>
/// A sealed frame keeps the frame layout of <see cref="FrameCodec"/>, with the payload replaced by ciphertext and tag:
/// <code>
/// offset 0      uint32  N + 16, little-endian
/// offset 4      uint8   message type
/// offset 5      N bytes ciphertext of the payload
/// offset 5 + N  16 bytes GCM tag over the ciphertext, with the 5 header bytes as associated data
/// nonce (12 bytes): 4 zero bytes, then the frame's sequence number in this direction (uint64, little-endian, from 0)
/// </code>
/// The length and the type stay visible to someone watching the wire; both are authenticated. One instance per
/// direction, used by that direction's loop only (not thread-safe).
/// </remarks>
internal abstract class FrameProtection : IDisposable
{
    public const int TagSize = 16;
    public const int KeySize = 32;
    private const int NonceSize = 12;

    private readonly AesGcm _aes;
    private ulong _sequence;

    protected FrameProtection(byte[] key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A frame key has {KeySize} bytes.", nameof(key));
        }

        _aes = new AesGcm(key, TagSize);
    }

    protected AesGcm Aes => _aes;

    /// <summary>The next frame's nonce; each is used once, as the sequence number moves on.</summary>
    protected void NextNonce(Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _sequence++);
    }

    protected static void WriteHeader(Span<byte> header, int sealedLength, MessageType type)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)sealedLength);
        header[4] = (byte)type;
    }

    protected static Span<byte> StackNonce(Span<byte> buffer) => buffer[..NonceSize];

    public void Dispose() => _aes.Dispose();
}

/// <summary>Seals outgoing frames: the payload is written into a staging buffer, then encrypted straight into the output.</summary>
internal sealed class FrameSealer(byte[] key) : FrameProtection(key)
{
    /// <summary>A staging buffer past this size goes back to the pool after its frame, so one big frame is not held for ever.</summary>
    private const int KeepStagingBelow = 1024 * 1024;

    private PooledBufferWriter _staging = new();

    /// <exception cref="ProtocolException">The payload exceeds <paramref name="maxPayload"/>.</exception>
    public void Write(IBufferWriter<byte> output, IOutgoingFrame frame, int maxPayload)
    {
        _staging.Reset();
        frame.WritePayload(_staging);
        int length = _staging.WrittenCount;
        if (length > maxPayload)
        {
            throw new ProtocolException($"A {frame.Type} frame of {length} bytes exceeds the limit of {maxPayload} bytes.");
        }

        int sealedLength = length + TagSize;
        Span<byte> target = output.GetSpan(FrameCodec.HeaderSize + sealedLength);
        Span<byte> header = target[..FrameCodec.HeaderSize];
        WriteHeader(header, sealedLength, frame.Type);
        Span<byte> nonce = StackNonce(stackalloc byte[16]);
        NextNonce(nonce);
        Aes.Encrypt(nonce, _staging.WrittenSpan, target.Slice(FrameCodec.HeaderSize, length), target.Slice(FrameCodec.HeaderSize + length, TagSize), header);
        output.Advance(FrameCodec.HeaderSize + sealedLength);
        if (_staging.Capacity > KeepStagingBelow)
        {
            _staging.Release();
        }
    }
}

/// <summary>Opens incoming sealed frames into pooled buffers.</summary>
internal sealed class FrameOpener(byte[] key) : FrameProtection(key)
{
    /// <summary>
    /// Checks and decrypts one sealed payload (as <see cref="FrameCodec.TryRead"/> returned it) into a pooled buffer,
    /// which <see cref="Opened.Dispose"/> returns.
    /// </summary>
    /// <exception cref="ProtocolException">The frame does not authenticate: altered, replayed, reordered, or not sealed.</exception>
    public Opened Open(MessageType type, ReadOnlySequence<byte> sealedPayload)
    {
        if (sealedPayload.Length < TagSize)
        {
            throw new ProtocolException($"A {type} frame too short to be sealed.");
        }

        int length = (int)sealedPayload.Length - TagSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            Span<byte> tag = stackalloc byte[TagSize];
            sealedPayload.Slice(length).CopyTo(tag);
            Span<byte> plain = buffer.AsSpan(0, length);
            ReadOnlySequence<byte> cipher = sealedPayload.Slice(0, length);
            ReadOnlySpan<byte> cipherSpan;
            if (cipher.IsSingleSegment)
            {
                cipherSpan = cipher.FirstSpan;
            }
            else
            {
                cipher.CopyTo(plain); // Opened in place: AES-GCM needs the ciphertext in one piece.
                cipherSpan = plain;
            }

            Span<byte> header = stackalloc byte[FrameCodec.HeaderSize];
            WriteHeader(header, (int)sealedPayload.Length, type);
            Span<byte> nonce = StackNonce(stackalloc byte[16]);
            NextNonce(nonce);
            Aes.Decrypt(nonce, cipherSpan, tag, plain, header);
            return new Opened(buffer, length);
        }
        catch (AuthenticationTagMismatchException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new ProtocolException($"A {type} frame failed authentication: altered, replayed or out of order.");
        }
    }

    /// <summary>A decrypted payload in a pooled buffer; valid until disposed.</summary>
    public readonly struct Opened(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlySequence<byte> Payload => new(buffer, 0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}
