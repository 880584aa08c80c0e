using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PPSharp.Protocol;

/// <summary>
/// Authenticated encryption of one direction of a node connection after its handshake: the frames a write loop
/// sends between two flushes are sealed together as one record, with AES-256-GCM under a key of that direction alone
/// and the record's sequence number as the nonce, so a record that is altered, replayed, dropped or moved fails to
/// open and closes the connection. Local worker channels never use it.
/// </summary>
/// <remarks>
/// A record on the wire:
/// <code>
/// offset 0      uint32  N + 16, little-endian
/// offset 4      uint8   0xFF (<see cref="RecordType"/>)
/// offset 5      N bytes ciphertext of whole frames in the layout of <see cref="FrameCodec"/>, one after another
/// offset 5 + N  16 bytes GCM tag over the ciphertext, with the 5 header bytes as associated data
/// nonce (12 bytes): 4 zero bytes, then the record's sequence number in this direction (uint64, little-endian, from 0)
/// </code>
/// Sealing many small frames at once pays the cipher's fixed cost per call (about 1 µs on this project's machine)
/// once per flush rather than once per frame; someone watching the wire sees record lengths, not frame types.
/// One instance per direction, used by that direction's loop only (not thread-safe).
/// </remarks>
internal abstract class FrameProtection : IDisposable
{
    public const int TagSize = 16;
    public const int KeySize = 32;

    /// <summary>The type byte of a sealed record: no message type has it.</summary>
    public const byte RecordType = 0xFF;

    /// <summary>
    /// Buffers of sealed records above this size are not pooled (<see cref="PooledBufferWriter"/>): a client uploading a
    /// 4.5 MB assembly to each of 100 nodes left 870 MB in the shared pool for good, and a node receives such uploads.
    /// </summary>
    public const int PoolLimit = LargeArrays.LargeAbove;

    /// <summary>A sealer closes its record once it holds this much, so a burst of frames is not held whole in memory.</summary>
    public const int RecordTarget = 64 * 1024;

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

    /// <summary>The largest record a peer may announce, given the largest frame payload: a record holds whole frames.</summary>
    public static int MaxRecord(int maxPayload) =>
        (int)Math.Min(Array.MaxLength, (long)RecordTarget + maxPayload + FrameCodec.HeaderSize + TagSize);

    /// <summary>The next record's nonce; each is used once, as the sequence number moves on.</summary>
    protected void NextNonce(Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _sequence++);
    }

    protected static void WriteHeader(Span<byte> header, int sealedLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)sealedLength);
        header[4] = RecordType;
    }

    protected static Span<byte> NonceOf(Span<byte> buffer) => buffer[..NonceSize];

    public void Dispose() => _aes.Dispose();
}

/// <summary>Collects outgoing frames in a staging buffer and seals them as one record into the output.</summary>
internal sealed class FrameSealer(byte[] key) : FrameProtection(key)
{
    /// <summary>A staging buffer past this size goes back to the pool after its record, so one big frame is not held for ever.</summary>
    private const int KeepStagingBelow = 1024 * 1024;

    private readonly PooledBufferWriter _staging = new(PoolLimit);

    /// <summary>Bytes of frames waiting to be sealed.</summary>
    public int Pending => _staging.WrittenCount;

    /// <summary>Adds one frame, in the plain frame layout, to the record being built.</summary>
    /// <exception cref="ProtocolException">The payload exceeds <paramref name="maxPayload"/>.</exception>
    public void Add(IOutgoingFrame frame, int maxPayload)
    {
        if (!FrameCodec.TryAppend(_staging, frame, maxPayload, out int length))
        {
            throw new ProtocolException($"A {frame.Type} frame of {length} bytes exceeds the limit of {maxPayload} bytes.");
        }
    }

    /// <summary>Seals the frames added since the last record, if any, as one record written to <paramref name="output"/>.</summary>
    public void Seal(IBufferWriter<byte> output)
    {
        int length = _staging.WrittenCount;
        if (length == 0)
        {
            return;
        }

        int sealedLength = length + TagSize;
        Span<byte> header = stackalloc byte[FrameCodec.HeaderSize];
        WriteHeader(header, sealedLength);
        Span<byte> nonce = NonceOf(stackalloc byte[16]);
        NextNonce(nonce);

        // Encrypted in place, the tag after it, then copied out in the output's own pieces: a record as large as its
        // largest frame (an 8 MiB argument, a 4 MB assembly) never asks the output for one buffer of its size.
        _staging.GetSpan(TagSize);
        _staging.Advance(TagSize);
        Span<byte> staged = _staging.Written;
        Aes.Encrypt(nonce, staged[..length], staged[..length], staged.Slice(length, TagSize), header);
        output.Write(header);
        output.Write(staged);
        if (_staging.Capacity > KeepStagingBelow)
        {
            _staging.Release();
        }
        else
        {
            _staging.Reset();
        }
    }
}

/// <summary>Takes sealed records off the received bytes and opens them into pooled buffers.</summary>
internal sealed class FrameOpener(byte[] key) : FrameProtection(key)
{
    /// <summary>Takes one whole sealed record off the front of <paramref name="buffer"/> if it holds one.</summary>
    /// <exception cref="ProtocolException">The announced length exceeds <paramref name="maxRecord"/>, or it is not a record.</exception>
    public static bool TryReadRecord(ref ReadOnlySequence<byte> buffer, int maxRecord, out ReadOnlySequence<byte> record)
    {
        record = default;
        if (buffer.Length < FrameCodec.HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[FrameCodec.HeaderSize];
        buffer.Slice(0, FrameCodec.HeaderSize).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > (uint)maxRecord)
        {
            throw new ProtocolException($"The peer announced a frame of {length} bytes; the limit is {maxRecord} bytes.");
        }

        if (header[4] != RecordType || length < TagSize)
        {
            throw new ProtocolException("The peer sent an unsealed frame after the handshake.");
        }

        if (buffer.Length - FrameCodec.HeaderSize < length)
        {
            return false;
        }

        record = buffer.Slice(FrameCodec.HeaderSize, length);
        buffer = buffer.Slice(record.End);
        return true;
    }

    /// <summary>
    /// Checks and decrypts one sealed record (as <see cref="TryReadRecord"/> returned it) into a pooled buffer, which
    /// <see cref="Opened.Dispose"/> returns. The frames in it are read with <see cref="FrameCodec.TryRead"/>.
    /// </summary>
    /// <exception cref="ProtocolException">The record does not authenticate: altered, replayed, reordered, or under another key.</exception>
    public Opened Open(ReadOnlySequence<byte> record)
    {
        int length = (int)record.Length - TagSize;
        byte[] buffer = PooledBufferWriter.Rent(Math.Max(1, length), PoolLimit);
        try
        {
            Span<byte> tag = stackalloc byte[TagSize];
            record.Slice(length).CopyTo(tag);
            Span<byte> plain = buffer.AsSpan(0, length);
            ReadOnlySequence<byte> cipher = record.Slice(0, length);
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
            WriteHeader(header, (int)record.Length);
            Span<byte> nonce = NonceOf(stackalloc byte[16]);
            NextNonce(nonce);
            Aes.Decrypt(nonce, cipherSpan, tag, plain, header);
            return new Opened(buffer, length);
        }
        catch (AuthenticationTagMismatchException)
        {
            PooledBufferWriter.Return(buffer, PoolLimit);
            throw new ProtocolException("A sealed record failed authentication: altered, replayed or out of order.");
        }
    }

    /// <summary>A decrypted record in a pooled buffer; valid until disposed.</summary>
    public readonly struct Opened(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlySequence<byte> Payload => new(buffer, 0, length);

        public void Dispose() => PooledBufferWriter.Return(buffer, PoolLimit);
    }
}
