using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using MessagePack;
using PPSharp.Diagnostics;
using PPSharp.Internal;
using PPSharp.Protocol;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Remote;

/// <summary>
/// One client connected to a node: the handshake, then the client's functions (with the assemblies they need),
/// its jobs into the node's scheduler, and their results back. Nothing a peer sends can do more than close this
/// session: every frame is size-limited and checked, and errors end only this connection.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The connection is disposed when WatchAsync ends.")]
internal sealed class ClientSession : IJobOwner
{
    private readonly NodeHost _node;
    private readonly string _peer;
    private readonly FrameConnection _connection;
    private readonly byte[] _nodeNonce = Handshake.NewNonce();
    private readonly Lock _gate = new();
    private readonly Dictionary<int, SessionFunction> _functions = [];
    private readonly Dictionary<long, ForwardedWorkItem> _jobs = [];
    private readonly HashSet<string> _requested = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(Messages.RunJob Header, FunctionDefinition Function, ReadOnlyMemory<byte> Body)> _waiting = [];
    private SessionFunction? _initializerFunction;

    // Backpressure (guarded by _gate): the jobs and body bytes held for this client, and why reading is paused.
    private int _heldJobs;
    private long _heldBytes;
    private bool _pausedForJobs;
    private volatile bool _pausedForResults;
    private ReadOnlyMemory<byte>? _initializerBody;
    private byte[]? _clientNonce;
    private volatile bool _authenticated;
    private volatile bool _refused;
    private bool _checking;
    private readonly System.Net.IPAddress? _address;
    private readonly SslStream? _tls;

    public ClientSession(NodeHost node, Socket socket)
    {
        _node = node;
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _address = (socket.RemoteEndPoint as System.Net.IPEndPoint)?.Address;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (node.Options.TlsCertificate is not null)
        {
            _tls = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = _tls;
        }

        _connection = new FrameConnection(stream, Handshake.PreAuthenticationMaxPayload, OnFrame)
        {
            Peer = (socket.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString() ?? "client", // the address, not the ephemeral port
        };
    }

    public bool IsAuthenticated => _authenticated;

    /// <summary>
    /// True while the client leaves more than <see cref="NodeHostOptions.MaxUnsentBytesPerClient"/> of results unread:
    /// none of its queued jobs starts until half of that has drained.
    /// </summary>
    public bool HoldsBack => _pausedForResults;

    /// <summary>The client's worker initializer, once its code is here; null if it has none (or not yet).</summary>
    public InitializerItem? Initializer { get; private set; }

    private readonly HashSet<string> _codeSets = new(StringComparer.Ordinal);

    /// <summary>The sets of shipped assemblies (each a sorted list of hashes) this client's functions use.</summary>
    public string[] CodeSets
    {
        get
        {
            lock (_codeSets)
            {
                return [.. _codeSets];
            }
        }
    }

    public Task Closed => _connection.Completion;

    private string Secret => _node.Options.Secret ?? string.Empty;

    public void Start()
    {
        _ = WatchAsync();
        if (_tls is null)
        {
            Begin();
        }
        else
        {
            _ = BeginAfterTlsAsync(_tls);
        }
    }

    private void Begin()
    {
        _connection.Start();
        _connection.Send(Handshake.Hello(Handshake.NodeRole, _nodeNonce, _node.Guard.Salt));
    }

    /// <summary>With <c>--tls-cert</c>: TLS first, within the handshake time limit; the secret's handshake runs inside it.</summary>
    private async Task BeginAfterTlsAsync(SslStream tls)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_node.Options.HandshakeTimeout);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _node.Options.TlsCertificate }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            _node.Guard.Failed(_address, _peer, $"the TLS handshake failed ({ex.Message})");
            _connection.Close(new ProtocolException("TLS handshake failed"));
            return;
        }

        Begin();
    }

    /// <summary>The node is shutting down: tell the client, so it reschedules our jobs elsewhere now, then close.</summary>
    public void Leave()
    {
        _connection.Send(Signal.Leaving);
        _connection.CompleteSending();
    }

    /// <summary>Tells an authenticated client why the node lets it go (an Error frame), then closes; its jobs here are dropped.</summary>
    public void Dismiss(string reason)
    {
        _connection.Send(Signal.Error(reason));
        _connection.CloseAfterSending(new ProtocolException(reason));
    }

    /// <summary>Closes a connection that does not authenticate in time, or goes silent for longer than the socket timeout.</summary>
    private async Task WatchAsync()
    {
        Task<Exception?> closed = _connection.Completion;
        if (await Task.WhenAny(closed, Task.Delay(_node.Options.HandshakeTimeout)).ConfigureAwait(false) != closed && !_authenticated)
        {
            _node.Guard.Failed(_address, _peer, "no handshake within the time limit");
            _connection.Close(new ProtocolException("handshake timeout"));
        }

        TimeSpan timeout = _node.Options.SocketTimeout;
        while (await Task.WhenAny(closed, Task.Delay(timeout / 4)).ConfigureAwait(false) != closed)
        {
            if (_connection.MillisecondsSinceReceived > timeout.TotalMilliseconds && !_connection.IsReadingPaused) // paused by us is not silence
            {
                Log.ClientSilent(_node.Logger, _peer);
                _connection.Close(new ProtocolException("socket timeout"));
            }
        }

        Exception? reason = await closed.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (reason is ProtocolException protocol && _authenticated)
        {
            Log.ClientProtocolError(_node.Logger, _peer, protocol.Message);
        }

        if (_authenticated)
        {
            Log.ClientDisconnected(_node.Logger, _peer);
        }

        _pausedForResults = false; // its results will never drain now: let its queued jobs be cleared out of the queue
        _node.OnClosed(this);
    }

    /// <summary>Handles one frame on the read loop; a <see cref="ProtocolException"/> closes only this session.</summary>
    private void OnFrame(MessageType type, ReadOnlySequence<byte> payload)
    {
        if (_refused)
        {
            return; // Turned away: its parting Error frame is on its way, and nothing more is read.
        }

        if (!_authenticated)
        {
            Authenticate(type, payload);
            return;
        }

        switch (type)
        {
            case MessageType.DefineFunction:
                Define(FunctionDescription.Read(payload));
                break;
            case MessageType.AssemblyData:
                Receive(payload);
                break;
            case MessageType.RunJob:
                Run(payload);
                break;
            case MessageType.RevokeJob:
                TakeBack(Messages.JobSignal.Read(payload), cancel: false);
                break;
            case MessageType.CancelJob:
                TakeBack(Messages.CancelJob.Read(payload).JobId, cancel: true);
                break;
            case MessageType.Ping:
                _connection.Send(_node.Load.Current()); // the answer carries the workers' memory and CPU
                break;
            default:
                throw new ProtocolException($"a client may not send {type} frames.");
        }
    }

    /// <summary>
    /// The node's half of <see cref="Handshake"/>: the client proves first; only then does the node prove itself and
    /// seal both directions. A proof is answered after the delay <see cref="AuthGuard"/> sets for its address.
    /// </summary>
    private void Authenticate(MessageType type, ReadOnlySequence<byte> payload)
    {
        try
        {
            switch (type)
            {
                case MessageType.NodeHello when _clientNonce is null:
                    _clientNonce = Handshake.ReadHello(payload, Handshake.ClientRole).Nonce;
                    return;
                case MessageType.AuthProof when _clientNonce is not null && !_checking:
                    _checking = true; // Anything the client sends before our answer breaks the handshake.
                    _ = CheckProofAsync(Handshake.ReadProof(payload), _clientNonce);
                    return;
                default:
                    throw new ProtocolException($"unexpected {type} frame before authentication");
            }
        }
        catch (ProtocolException ex)
        {
            Refuse(ex);
        }
    }

    private async Task CheckProofAsync(byte[]? proof, byte[] clientNonce)
    {
        AuthGuard guard = _node.Guard;
        TimeSpan delay = guard.DelayBeforeAnswering(_address);
        if (delay > TimeSpan.Zero)
        {
            await Task.WhenAny(Task.Delay(delay), _connection.Completion).ConfigureAwait(false);
        }

        byte[] key = await guard.Key.ConfigureAwait(false);
        if (_refused || _connection.Completion.IsCompleted)
        {
            return;
        }

        if (!Handshake.Verify(proof, key, Handshake.ClientRole, clientNonce, _nodeNonce))
        {
            Refuse(new ProtocolException("authentication failed (wrong secret?)"));
            return;
        }

        guard.Succeeded(_address);
        if (_node.Unable is { } unable)
        {
            // The client is who it says, but nothing could run its jobs here: it should use its other nodes.
            Dismiss(unable);
            return;
        }

        (byte[] fromClient, byte[] toClient) = Handshake.SessionKeys(key, clientNonce, _nodeNonce);
        _connection.ProtectReceiving(new FrameOpener(fromClient)); // The client sends nothing more until it has our proof.
        _connection.MaxPayload = _node.Options.MaxMessageSize;
        _authenticated = true;
        _connection.Send(Handshake.Proof(key, Handshake.NodeRole, clientNonce, _nodeNonce));
        _connection.ProtectSending(new FrameSealer(toClient));
        _connection.Send(Signal.Of(MessageType.NodeInfo, (ref MessagePackWriter w) => w.Write(_node.Workers)));
        _node.OnAuthenticated(this);
        Log.ClientConnected(_node.Logger, _peer);
    }

    private void Refuse(ProtocolException reason)
    {
        _node.Guard.Failed(_address, _peer, reason.Message);
        _refused = true;
        _connection.Send(Signal.Error(reason.Message));
        _connection.CloseAfterSending(reason);
    }

    /// <summary>A client's function: usable at once if the node has its assemblies, else once they are uploaded.</summary>
    private void Define(FunctionDescription description)
    {
        string[] missing = [.. description.Code.Where(c => !_node.Cache.Contains(c.Sha256)).Select(c => c.Sha256)];
        var function = new SessionFunction(description);
        lock (_gate)
        {
            if (description.Code.Length > 0)
            {
                lock (_codeSets)
                {
                    _codeSets.Add(string.Join(",", description.Code.Select(c => c.Sha256).Order(StringComparer.Ordinal)));
                }
            }

            _functions[description.Id] = function;
            TryReadyLocked(function);
            string[] ask = [.. missing.Where(_requested.Add)];
            if (ask.Length > 0)
            {
                _connection.Send(Signal.Of(MessageType.NeedAssemblies, (ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(ask.Length);
                    foreach (string sha in ask)
                    {
                        w.Write(sha);
                    }
                }));
            }
        }
    }

    private void Receive(ReadOnlySequence<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        string sha = reader.ReadString() ?? throw new ProtocolException("an assembly upload without a hash.");
        ReadOnlySequence<byte> content = reader.ReadBytes() ?? throw new ProtocolException("an assembly upload without content.");
        lock (_gate)
        {
            if (!_requested.Remove(sha))
            {
                throw new ProtocolException($"an upload of {sha}, which this node did not ask for.");
            }
        }

        switch (_node.Cache.TryAdd(sha, content.IsSingleSegment ? content.FirstSpan : content.ToArray()))
        {
            case AssemblyCache.AddResult.HashMismatch:
                throw new ProtocolException($"the uploaded assembly does not match its SHA-256 {sha}.");
            case AssemblyCache.AddResult.OverQuota:
                throw new ProtocolException($"the uploaded assembly {sha} ({content.Length} bytes) is larger than this node's whole cache quota ({_node.Cache.Limit} bytes).");
        }

        Log.AssemblyReceived(_node.Logger, sha, content.Length, _peer);

        lock (_gate)
        {
            foreach (SessionFunction function in _functions.Values)
            {
                TryReadyLocked(function);
            }
        }
    }

    /// <summary>Once every assembly is here: the node's own definition (its id, cache paths), and the held jobs go.</summary>
    private void TryReadyLocked(SessionFunction function)
    {
        if (function.Definition is not null || function.Description.Code.Any(c => !_node.Cache.Contains(c.Sha256)))
        {
            return;
        }

        FunctionDescription local = function.Description with
        {
            Id = _node.NextFunctionId(),
            Code = [.. function.Description.Code.Select(c => c with { Path = _node.Cache.PathOf(c.Sha256) })],
        };
        function.Definition = new FunctionDefinition(local.Id, local.ToPayload());
        TryReadyInitializerLocked();
        foreach ((Messages.RunJob header, ReadOnlyMemory<byte> body) in function.Held)
        {
            EnqueueLocked(header, function.Definition, body);
        }

        function.Held.Clear();
    }

    private void Run(ReadOnlySequence<byte> payload)
    {
        // The node's own workers acknowledge starts to the node, as its scheduler asks; the client's flag is not passed on.
        Messages.RunJob header = Messages.RunJob.Read(payload, out ReadOnlySequence<byte> body);
        // Kept until the job is answered, for its worker and any rerun; a large body in a reused array, which its
        // ForwardedWorkItem releases when finished (or TakeBack, for a job that never reached the queue).
        ReadOnlyMemory<byte> bytes = HeldArray.Take(LargeArrays.Shared.Copy(body), LargeArrays.Shared);
        lock (_gate)
        {
            if (!_functions.TryGetValue(header.FunctionId, out SessionFunction? function))
            {
                throw new ProtocolException($"a job for function {header.FunctionId}, which was never defined.");
            }

            if ((header.Flags & Messages.RunFlags.Initializer) != 0)
            {
                DeclareInitializerLocked(header, function, bytes);
                return;
            }

            if (_jobs.ContainsKey(header.JobId) || function.Held.Exists(h => h.Header.JobId == header.JobId) || _waiting.Exists(w => w.Header.JobId == header.JobId))
            {
                throw new ProtocolException($"job {header.JobId} was sent twice.");
            }

            _heldJobs++;
            _heldBytes += bytes.Length;
            if (function.Definition is null)
            {
                function.Held.Add((header, bytes)); // Its code is still being uploaded.
            }
            else
            {
                EnqueueLocked(header, function.Definition, bytes);
            }

            if (!_pausedForJobs && (_heldJobs >= _node.Options.MaxQueuedJobsPerClient || _heldBytes >= _node.Options.MaxQueuedBytesPerClient))
            {
                // Read nothing more from this client until its jobs here drop to half the limits: its further jobs
                // wait in the socket buffers and in its own queue, and cost this node nothing.
                _pausedForJobs = true;
                _connection.PauseReading();
            }
        }
    }

    /// <summary>One of the client's jobs has left this node (answered, or given back before it was queued).</summary>
    private void ReleaseLocked(long bodyLength)
    {
        _heldJobs--;
        _heldBytes -= bodyLength;
        if (_pausedForJobs && _heldJobs <= _node.Options.MaxQueuedJobsPerClient / 2 && _heldBytes <= _node.Options.MaxQueuedBytesPerClient / 2)
        {
            _pausedForJobs = false;
            ResumeReadingLocked();
        }
    }

    private void ResumeReadingLocked()
    {
        if (!_pausedForJobs && !_pausedForResults)
        {
            _connection.ResumeReading();
        }
    }

    /// <summary>
    /// The client does not read its results: start none of its jobs and read nothing from it until half of them have
    /// gone out. Jobs already on workers finish; their results wait too (bounded by the workers' slots).
    /// </summary>
    private void HoldBackIfUnread()
    {
        long limit = _node.Options.MaxUnsentBytesPerClient;
        if (_pausedForResults || _connection.UnsentBytes <= limit)
        {
            return;
        }

        lock (_gate)
        {
            _pausedForResults = true;
            _connection.PauseReading();
        }

        _connection.WhenUnsentBelow(limit / 2, () =>
        {
            lock (_gate)
            {
                _pausedForResults = false;
                ResumeReadingLocked();
            }

            _node.Scheduler.Dispatch();
        });
    }

    /// <summary>
    /// The client's worker initializer: run on each of this node's workers before the client's first job there
    /// (<see cref="ForwardedWorkItem.Initializer"/>). Until its code is here, the client's jobs wait with it.
    /// </summary>
    private void DeclareInitializerLocked(Messages.RunJob header, SessionFunction function, ReadOnlyMemory<byte> body)
    {
        if (_initializerBody is not null || _jobs.Count > 0 || _functions.Values.Any(f => f.Held.Count > 0))
        {
            throw new ProtocolException("a worker initializer must come once, before the client's first job.");
        }

        if (!InitializerItem.IsInitializer(header.JobId))
        {
            throw new ProtocolException($"a worker initializer under job id {header.JobId}; its id must be negative.");
        }

        _initializerBody = body;
        _initializerFunction = function;
        TryReadyInitializerLocked();
    }

    private void TryReadyInitializerLocked()
    {
        if (Initializer is null && _initializerFunction?.Definition is { } definition)
        {
            Initializer = new InitializerItem(definition, _initializerBody!.Value);
            foreach ((Messages.RunJob header, FunctionDefinition jobFunction, ReadOnlyMemory<byte> body) in _waiting)
            {
                EnqueueLocked(header, jobFunction, body);
            }

            _waiting.Clear();
        }
    }

    private void EnqueueLocked(Messages.RunJob header, FunctionDefinition definition, ReadOnlyMemory<byte> body)
    {
        if (_initializerFunction is not null && Initializer is null)
        {
            _waiting.Add((header, definition, body)); // The initializer's code is still being uploaded.
            return;
        }

        var item = new ForwardedWorkItem(this, header.JobId, _node.NextJobId(), definition, body, new WorkSettings(0, header.TimeoutMilliseconds, 0, header.ChunkSize))
        {
            TraceParent = header.TraceParent, // passed on to the worker, so the job's activity nests under the client's
        };
        _jobs[header.JobId] = item;
        _node.Scheduler.Enqueue(item);
    }

    /// <summary>
    /// The client wants a job back (to run it elsewhere) or cancelled: answered JobRevoked if it had not started;
    /// a cancelled running job is stopped, and answered when its worker reports.
    /// </summary>
    private void TakeBack(long clientJobId, bool cancel)
    {
        ForwardedWorkItem? item;
        lock (_gate)
        {
            if (TakeNotYetQueuedLocked(clientJobId) is { } body)
            {
                ReleaseLocked(body.Length); // its code, or the initializer's, was still being uploaded: it never ran
                HeldArray.Release(body); // never queued, so never on a connection: this was its one hold
                _connection.Send(new Messages.JobSignal(MessageType.JobRevoked, clientJobId));
                return;
            }

            _jobs.TryGetValue(clientJobId, out item);
        }

        if (item is null)
        {
            return; // Answered already: the client will see that answer.
        }

        if (cancel)
        {
            _node.Scheduler.Cancel(item);
        }
        else
        {
            _node.Scheduler.Revoke(item);
        }
    }

    /// <summary>The client has gone: its jobs belong to nobody. Queued ones are dropped, running ones stopped.</summary>
    internal void CancelAll()
    {
        List<ForwardedWorkItem> jobs;
        lock (_gate)
        {
            jobs = [.. _jobs.Values];
        }

        jobs.ForEach(item => _node.Scheduler.Cancel(item));
    }

    /// <summary>Removes a job still waiting for code (its function's, or the initializer's) and returns its body; null if none.</summary>
    private ReadOnlyMemory<byte>? TakeNotYetQueuedLocked(long clientJobId)
    {
        int at = _waiting.FindIndex(w => w.Header.JobId == clientJobId);
        if (at >= 0)
        {
            ReadOnlyMemory<byte> body = _waiting[at].Body;
            _waiting.RemoveAt(at);
            return body;
        }

        foreach (SessionFunction function in _functions.Values)
        {
            at = function.Held.FindIndex(h => h.Header.JobId == clientJobId);
            if (at >= 0)
            {
                ReadOnlyMemory<byte> body = function.Held[at].Body;
                function.Held.RemoveAt(at);
                return body;
            }
        }

        return null;
    }

    /// <summary>Tells the client the job has started on a worker here.</summary>
    internal void Started(long clientJobId) => _connection.Send(new Messages.JobSignal(MessageType.JobStarted, clientJobId));

    /// <summary>Sends a job's outcome back under the client's own job id; dropped if the client has gone.</summary>
    internal void Answer(long clientJobId, in WorkOutcome outcome)
    {
        lock (_gate)
        {
            if (_jobs.Remove(clientJobId, out ForwardedWorkItem? item))
            {
                ReleaseLocked(item.Body.Length);
            }
        }

        IOutgoingFrame frame = outcome.Kind switch
        {
            OutcomeKind.Succeeded => new Messages.JobSucceeded(clientJobId, outcome.Elapsed.Ticks, outcome.Output, outcome.Result, giveBackResult: true),
            OutcomeKind.Failed => new Messages.JobFailed(clientJobId, outcome.Elapsed.Ticks, outcome.Output, outcome.ErrorType ?? "System.Exception", outcome.ErrorMessage ?? string.Empty, outcome.ErrorStackTrace, outcome.ErrorDetail),
            OutcomeKind.Revoked => new Messages.JobSignal(MessageType.JobRevoked, clientJobId),
            _ => new Messages.JobFailed(clientJobId, 0, null, outcome.LocalError?.GetType().FullName ?? "System.Exception", outcome.LocalError?.Message ?? "The job was lost.", null),
        };
        _connection.Send(frame);
        HoldBackIfUnread();
    }

    private sealed class SessionFunction(FunctionDescription description)
    {
        public FunctionDescription Description { get; } = description;

        public FunctionDefinition? Definition { get; set; }

        /// <summary>Jobs that arrived before the function's assemblies: their headers (client job ids) and bodies.</summary>
        public List<(Messages.RunJob Header, ReadOnlyMemory<byte> Body)> Held { get; } = [];
    }
}

/// <summary>A client's job inside a node: runs on the node's workers, answers the client that sent it.</summary>
internal sealed class ForwardedWorkItem(ClientSession session, long clientJobId, long id, FunctionDefinition function, ReadOnlyMemory<byte> body, WorkSettings settings)
    : WorkItem(id, function, body, settings)
{
    public ClientSession Session { get; } = session;

    /// <summary>Each client takes its turn in the node's queue, so one client's backlog never starves another's.</summary>
    public override object? Owner => Session;

    public override InitializerItem? Initializer => Session.Initializer;

    public override void Complete(in WorkOutcome outcome)
    {
        Telemetry.OnCompleted(this, outcome);
        Session.Answer(clientJobId, outcome);
    }

    public override void OnStarted() => Session.Started(clientJobId);
}
