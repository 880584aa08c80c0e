namespace PPSharp.Protocol;

/// <summary>
/// The kind of a frame. One byte on the wire, right after the length (see <see cref="FrameCodec"/>).
/// The same set serves the local worker channel and, later, the node socket, so a job is never translated on its way.
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
}
