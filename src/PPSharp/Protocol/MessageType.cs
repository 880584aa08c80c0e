namespace PPSharp.Protocol;

/// <summary>
/// The kind of a frame. One byte on the wire, right after the length (see <see cref="FrameCodec"/>).
/// The same set serves the local worker channel and the node socket, so a job is never translated on its way.
/// </summary>
internal enum MessageType : byte
{
    /// <summary>Worker to client, first frame on a worker channel: protocol version, token, process id.</summary>
    Hello = 1,

    /// <summary>Client to worker: a function's description, sent once per channel and referred to by id afterwards.</summary>
    DefineFunction = 2,

    /// <summary>Client to worker: run one job (job id, function id, captured values and arguments).</summary>
    RunJob = 3,

    /// <summary>Worker to client: a job finished; carries its time, console output and serialized result.</summary>
    JobSucceeded = 4,

    /// <summary>Worker to client: a job threw; carries its time, console output and the exception's type, message and stack trace.</summary>
    JobFailed = 5,

    /// <summary>Client to worker: finish the jobs already sent, then exit.</summary>
    Shutdown = 6,

    /// <summary>First frame each way on a node connection: protocol version, role, fresh nonce.</summary>
    NodeHello = 7,

    /// <summary>Proof of the shared secret: HMAC-SHA256 over both nonces and the sender's role.</summary>
    AuthProof = 8,

    /// <summary>Node to client, once the client is authenticated: the node's worker count.</summary>
    NodeInfo = 9,

    /// <summary>Either way: why the connection is being closed (bad version, failed authentication).</summary>
    Error = 10,

    /// <summary>Node to client: the SHA-256s of assemblies the node does not have.</summary>
    NeedAssemblies = 11,

    /// <summary>Client to node: one assembly's SHA-256 and bytes.</summary>
    AssemblyData = 12,

    /// <summary>Client to node or worker: are you there? (heartbeat)</summary>
    Ping = 13,

    /// <summary>Worker to client: yes (heartbeat answer; a node answers with <see cref="NodeLoad"/> instead).</summary>
    Pong = 14,

    /// <summary>Node to client: the node is shutting down; reschedule its jobs elsewhere now.</summary>
    Leaving = 15,

    /// <summary>Worker to client: this job is starting (sent, and flushed, before it runs, when the RunJob asked for it).</summary>
    JobStarted = 16,

    /// <summary>Client to worker or node: give this job back if it has not started (it is to run elsewhere).</summary>
    RevokeJob = 17,

    /// <summary>Worker or node to client: the job had not started and never will there (answers RevokeJob or CancelJob).</summary>
    JobRevoked = 18,

    /// <summary>Client to worker or node: stop this job; if it runs, signal its token, and end its process after the grace period.</summary>
    CancelJob = 19,

    /// <summary>Node to client, the answer to Ping: its worker processes' resident memory, CPU time and busy flags.</summary>
    NodeLoad = 20,
}
