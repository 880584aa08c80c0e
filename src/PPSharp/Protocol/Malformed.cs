using MessagePack;

namespace PPSharp.Protocol;

/// <summary>What MessagePack's reader throws on input that is not what a decoder expects.</summary>
/// <remarks>
/// Found by the property tests of the decoders: besides <see cref="MessagePackSerializationException"/> and
/// <see cref="EndOfStreamException"/>, the reader throws <see cref="OverflowException"/> for an integer that does not
/// fit, and <see cref="ArgumentOutOfRangeException"/> for a bin or str whose announced length runs past the input.
/// </remarks>
internal static class Malformed
{
    public static bool Is(Exception ex) =>
        ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException;
}
