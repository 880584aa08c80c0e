using System.Buffers.Binary;
using System.Text;

namespace PPSharp.Discovery;

/// <summary>
/// The UDP datagrams of auto-discovery. Fixed layout, all integers big-endian (network order):
/// <code>
/// offset 0  8 bytes  magic "PPSHARP\0"
/// offset 8  uint8    kind: 1 = request (a client asks nodes to announce themselves), 2 = announcement
/// offset 9  uint16   protocol version
/// offset 11 uint16   announcement only: the node's TCP port
/// offset 13 uint8    announcement only: length L of the node's listening address (0: use the datagram's source)
/// offset 14 L bytes  announcement only: that address, ASCII
/// </code>
/// Anything else (wrong magic, unknown kind, another version, bad lengths, more than <see cref="MaxSize"/> bytes) is
/// ignored: the listening socket is open to anyone on the network.
/// </summary>
internal static class DiscoveryDatagram
{
    /// <summary>No valid datagram is larger; bigger ones are dropped unread.</summary>
    public const int MaxSize = 64;

    /// <summary>How often a node announces itself (ppft: every 10 seconds).</summary>
    public static readonly TimeSpan AnnounceInterval = TimeSpan.FromSeconds(10);

    private const byte RequestKind = 1;
    private const byte AnnouncementKind = 2;
    private static readonly byte[] Magic = "PPSHARP\0"u8.ToArray();

    public static byte[] Request()
    {
        byte[] datagram = new byte[11];
        Magic.CopyTo(datagram, 0);
        datagram[8] = RequestKind;
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(9), Protocol.Messages.ProtocolVersion);
        return datagram;
    }

    public static byte[] Announcement(int port, string? address)
    {
        byte[] host = address is null ? [] : Encoding.ASCII.GetBytes(address);
        byte[] datagram = new byte[14 + host.Length];
        Magic.CopyTo(datagram, 0);
        datagram[8] = AnnouncementKind;
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(9), Protocol.Messages.ProtocolVersion);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(11), (ushort)port);
        datagram[13] = (byte)host.Length;
        host.CopyTo(datagram, 14);
        return datagram;
    }

    public static bool IsRequest(ReadOnlySpan<byte> datagram) =>
        datagram.Length == 11 && HasHeader(datagram, RequestKind);

    /// <summary>Reads an announcement: the node's TCP port and, if it gave one, its address.</summary>
    public static bool TryReadAnnouncement(ReadOnlySpan<byte> datagram, out int port, out string? address)
    {
        port = 0;
        address = null;
        if (datagram.Length < 14 || datagram.Length > MaxSize || !HasHeader(datagram, AnnouncementKind))
        {
            return false;
        }

        port = BinaryPrimitives.ReadUInt16BigEndian(datagram[11..]);
        int length = datagram[13];
        if (port == 0 || datagram.Length != 14 + length)
        {
            return false;
        }

        if (length > 0)
        {
            address = Encoding.ASCII.GetString(datagram.Slice(14, length));
            if (!System.Net.IPAddress.TryParse(address, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasHeader(ReadOnlySpan<byte> datagram, byte kind) =>
        datagram[..8].SequenceEqual(Magic) && datagram[8] == kind
        && BinaryPrimitives.ReadUInt16BigEndian(datagram[9..]) == Protocol.Messages.ProtocolVersion;
}
