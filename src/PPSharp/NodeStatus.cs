namespace PPSharp;

/// <summary>How a job server stands with one remote node; see <see cref="JobServer.GetNodeStatus"/>.</summary>
public enum NodeConnectionState
{
    /// <summary>Not connected yet: the first attempt is under way.</summary>
    Connecting,

    /// <summary>Connected and authenticated: jobs can run there.</summary>
    Connected,

    /// <summary>Could not be reached (no answer, connection refused, lost): retried every few seconds; jobs wait for it.</summary>
    Unreachable,

    /// <summary>Answered but refused this client (wrong or missing secret, another protocol version): retried, but a warning says why.</summary>
    Refused,
}

/// <summary>One remote node as the job server knows it.</summary>
/// <param name="Node">"host:port".</param>
/// <param name="State">Connected, or why not.</param>
/// <param name="Workers">The node's worker count while connected, else 0.</param>
/// <param name="LastError">Why the last connection attempt failed or the last connection ended; null if none has.</param>
public sealed record NodeStatus(string Node, NodeConnectionState State, int Workers, string? LastError);
