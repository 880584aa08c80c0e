namespace PPSharp.Protocol;

/// <summary>A peer sent something that breaks the protocol; the connection it came on is closed.</summary>
internal sealed class ProtocolException(string message) : Exception(message);
