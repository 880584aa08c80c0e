using PPSharp.Remote;

namespace PPSharp;

/// <summary>The job server's view of its remote nodes: their states, and failing jobs that no place will ever take.</summary>
public sealed partial class JobServer
{
    /// <summary>
    /// Every remote node this server knows (listed, discovered or resolved), connected or not, with its state and the
    /// last error: a sibling of <see cref="GetActiveNodes"/>, which lists only the places jobs can run now.
    /// </summary>
    /// <returns>One entry per node, ordered by name.</returns>
    public IReadOnlyList<NodeStatus> GetNodeStatus() =>
        [.. Nodes().OrderBy(n => n.Node, StringComparer.Ordinal).Select(n => new NodeStatus(
            n.Node,
            n.Health.State,
            n.Health.State == NodeConnectionState.Connected ? n.Capacity : 0,
            n.Health.LastError))];

    /// <summary>
    /// With no local worker (<see cref="Ncpus"/> 0), no discovery pattern or DNS name that could still bring a node, and
    /// every known node refusing this client (wrong secret, another version), no job can ever run: fail the queued
    /// jobs with an error that names each node and why, rather than let them wait silently. A node that is merely
    /// unreachable keeps its jobs waiting, as in ppft.
    /// </summary>
    private void FailIfEveryNodeRefused()
    {
        if (Ncpus != 0 || _finders is not { Length: 0 } || IsDestroyed)
        {
            return;
        }

        RemoteNode[] nodes;
        lock (_nodesGate)
        {
            // Called on every Submit: the usual answer (a node that has not refused) costs no copy and no allocation.
            if (_nodes.Count == 0)
            {
                return;
            }

            foreach (RemoteNode node in _nodes.Values)
            {
                if (node.Health.State != NodeConnectionState.Refused)
                {
                    return;
                }
            }

            nodes = [.. _nodes.Values];
        }

        FailQueued(nodes);
    }

    /// <summary>A method of its own: a closure in the caller would be allocated on every Submit, before the early returns.</summary>
    private void FailQueued(RemoteNode[] nodes)
    {
        string reasons = string.Join("; ", nodes.Select(n => $"{n.Node}: {n.Health.LastError}"));
        _scheduler.FailQueuedIfIdle(() => new JobFailedException(
            $"No place can run this job: there are no local workers (ncpus is 0) and every node refused this client ({reasons})."));
    }
}
