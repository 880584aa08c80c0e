namespace PPSharp.Remote;

/// <summary>
/// What a client knows of one node's connection: its state and the last error, for <c>JobServer.GetNodeStatus</c>,
/// and whether a failure is the first of a streak (worth a warning) or a repeat of the retry loop (Debug only).
/// </summary>
internal sealed class NodeHealth
{
    private readonly Lock _gate = new();

    public NodeConnectionState State { get; private set; } = NodeConnectionState.Connecting;

    public string? LastError { get; private set; }

    /// <summary>Raised (outside the lock) when the node refuses this client.</summary>
    public event Action? Refused;

    public void Connected()
    {
        lock (_gate)
        {
            State = NodeConnectionState.Connected;
        }
    }

    /// <summary>Records a refusal; returns true if it is new (the state or the reason changed).</summary>
    public bool Refuse(string reason)
    {
        bool changed = Record(NodeConnectionState.Refused, reason);
        Refused?.Invoke();
        return changed;
    }

    /// <summary>Records that the node could not be reached or was lost; returns true if that is new (the state or the reason changed).</summary>
    public bool Unreachable(string reason) => Record(NodeConnectionState.Unreachable, reason);

    private bool Record(NodeConnectionState state, string reason)
    {
        lock (_gate)
        {
            bool changed = State != state || LastError != reason;
            (State, LastError) = (state, reason);
            return changed;
        }
    }
}
