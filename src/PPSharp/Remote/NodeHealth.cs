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

    /// <summary>
    /// Records a refusal; if it is new (the state or the reason changed), calls <paramref name="whenNew"/> (to log it)
    /// before <see cref="Refused"/> is raised, so the warning is out before any job fails for it.
    /// </summary>
    public void Refuse(string reason, Action whenNew)
    {
        if (Record(NodeConnectionState.Refused, reason))
        {
            whenNew();
        }

        Refused?.Invoke();
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
