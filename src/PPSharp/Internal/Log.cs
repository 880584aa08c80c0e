using Microsoft.Extensions.Logging;

namespace PPSharp.Internal;

/// <summary>Every log message PPSharp writes, source-generated so a disabled level costs nothing.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Job server started with {Ncpus} local workers")]
    public static partial void ServerStarted(ILogger logger, int ncpus);

    [LoggerMessage(2, LogLevel.Debug, "Worker process {ProcessId} started")]
    public static partial void WorkerStarting(ILogger logger, int processId);

    [LoggerMessage(3, LogLevel.Information, "Worker process {ProcessId} is ready")]
    public static partial void WorkerReady(ILogger logger, int processId);

    [LoggerMessage(4, LogLevel.Debug, "Worker process {ProcessId} retired")]
    public static partial void WorkerRetired(ILogger logger, int processId);

    [LoggerMessage(5, LogLevel.Warning, "Worker process {ProcessId} {Description}")]
    public static partial void WorkerCrashed(ILogger logger, int processId, string description);

    [LoggerMessage(6, LogLevel.Error, "A worker process could not start: {Reason}")]
    public static partial void WorkerStartFailed(ILogger logger, string reason);

    [LoggerMessage(7, LogLevel.Debug, "Worker process {ProcessId} wrote to its own {Stream}: {Line}")]
    public static partial void WorkerRawOutput(ILogger logger, int processId, string stream, string line);

    [LoggerMessage(8, LogLevel.Error, "The callback of job {JobId} threw")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, long jobId);

    [LoggerMessage(9, LogLevel.Information, "Local worker count set to {Ncpus}")]
    public static partial void NcpusChanged(ILogger logger, int ncpus);

    [LoggerMessage(10, LogLevel.Error, "Worker process {ProcessId} broke the protocol: {Reason}")]
    public static partial void WorkerProtocolError(ILogger logger, int processId, string reason);

    [LoggerMessage(11, LogLevel.Information, "Job server destroyed")]
    public static partial void ServerDestroyed(ILogger logger);

    [LoggerMessage(20, LogLevel.Information, "ppserver listening on {EndPoint} with {Workers} workers")]
    public static partial void NodeListening(ILogger logger, string endPoint, int workers);

    [LoggerMessage(21, LogLevel.Information, "Node stopped")]
    public static partial void NodeStopped(ILogger logger);

    [LoggerMessage(22, LogLevel.Information, "No client for {Seconds} s: idle timeout")]
    public static partial void NodeIdle(ILogger logger, double seconds);

    [LoggerMessage(23, LogLevel.Warning, "Authentication failed from {Peer}: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(91, LogLevel.Warning, "{Count} more authentication failures from {Addresses} addresses in the last {Seconds} s (the last from {Last})")]
    public static partial void AuthenticationFailuresSummarized(ILogger logger, int count, int addresses, double seconds, string last);

    [LoggerMessage(92, LogLevel.Information, "Assembly cache {Directory}: {Count} assemblies, {Bytes} bytes, quota {Limit} bytes")]
    public static partial void AssemblyCacheOpened(ILogger logger, string directory, int count, long bytes, long limit);

    [LoggerMessage(93, LogLevel.Information, "Assembly {Sha256} ({Bytes} bytes) evicted from the cache, the least recently used, to keep it under its quota of {Limit} bytes")]
    public static partial void AssemblyEvicted(ILogger logger, string sha256, long bytes, long limit);

    [LoggerMessage(94, LogLevel.Warning, "The assembly cache holds {Bytes} bytes, over its quota of {Limit} bytes: the rest is in use by connected clients")]
    public static partial void AssemblyCacheOverQuota(ILogger logger, long bytes, long limit);

    [LoggerMessage(24, LogLevel.Information, "Client {Peer} connected")]
    public static partial void ClientConnected(ILogger logger, string peer);

    [LoggerMessage(25, LogLevel.Information, "Client {Peer} disconnected")]
    public static partial void ClientDisconnected(ILogger logger, string peer);

    [LoggerMessage(26, LogLevel.Warning, "Client {Peer} was silent for longer than the socket timeout")]
    public static partial void ClientSilent(ILogger logger, string peer);

    [LoggerMessage(27, LogLevel.Warning, "Client {Peer} broke the protocol: {Reason}")]
    public static partial void ClientProtocolError(ILogger logger, string peer, string reason);

    [LoggerMessage(28, LogLevel.Information, "Connected to node {Node} ({Workers} workers)")]
    public static partial void NodeConnected(ILogger logger, string node, int workers);

    [LoggerMessage(29, LogLevel.Warning, "Lost node {Node}: {Reason}")]
    public static partial void NodeLost(ILogger logger, string node, string reason);

    [LoggerMessage(30, LogLevel.Debug, "Cannot reach node {Node}: {Reason}")]
    public static partial void NodeUnreachable(ILogger logger, string node, string reason);

    [LoggerMessage(34, LogLevel.Warning, "Cannot reach node {Node} (jobs wait for it; retrying every few seconds): {Reason}")]
    public static partial void NodeUnreachableWarning(ILogger logger, string node, string reason);

    [LoggerMessage(31, LogLevel.Error, "Node {Node} refused this client: {Reason}")]
    public static partial void NodeRefused(ILogger logger, string node, string reason);

    [LoggerMessage(32, LogLevel.Information, "Received assembly {Sha256} ({Bytes} bytes) from {Peer}")]
    public static partial void AssemblyReceived(ILogger logger, string sha256, long bytes, string peer);

    [LoggerMessage(40, LogLevel.Information, "Announcing this node on {Broadcast}:{Port}")]
    public static partial void DiscoveryAnnouncing(ILogger logger, string broadcast, int port);

    [LoggerMessage(41, LogLevel.Warning, "Could not send a discovery announcement")]
    public static partial void DiscoverySendFailed(ILogger logger);

    [LoggerMessage(42, LogLevel.Information, "Looking for nodes on {Broadcast}:{Port}")]
    public static partial void DiscoveryListening(ILogger logger, string broadcast, int port);

    [LoggerMessage(43, LogLevel.Information, "Found node {Node}")]
    public static partial void NodeFound(ILogger logger, string node);

    [LoggerMessage(44, LogLevel.Warning, "Cannot resolve {Name}: {Reason}")]
    public static partial void DnsFailed(ILogger logger, string name, string reason);

    [LoggerMessage(33, LogLevel.Information, "A client's code is no longer used: replacing the workers that loaded it")]
    public static partial void WorkersRecycled(ILogger logger);

    [LoggerMessage(60, LogLevel.Warning, "The worker initializer failed in worker process {ProcessId}: {Error}")]
    public static partial void WorkerInitializerFailed(ILogger logger, int processId, string error);

    [LoggerMessage(61, LogLevel.Warning, "Worker process {ProcessId} has not answered for {Seconds} s (frozen?): ending it and moving its jobs")]
    public static partial void WorkerUnresponsive(ILogger logger, int processId, double seconds);

    [LoggerMessage(62, LogLevel.Debug, "Disconnected from node {Node} (the job server is being disposed)")]
    public static partial void NodeDisconnected(ILogger logger, string node);

    [LoggerMessage(95, LogLevel.Error, "{Attempts} worker processes in a row could not start; trying again in a few seconds. Last failure: {Reason}")]
    public static partial void WorkersCannotStart(ILogger logger, int attempts, string reason);

    [LoggerMessage(96, LogLevel.Information, "A worker process started again after failures")]
    public static partial void WorkersStartAgain(ILogger logger);
}
