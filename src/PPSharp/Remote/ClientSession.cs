using System.Buffers;
using System.Net.Sockets;
using MessagePack;
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
internal sealed class ClientSession
{
    private readonly NodeHost _node;
    private readonly string _peer;
    private readonly FrameConnection _connection;
    private readonly byte[] _nodeNonce = Handshake.NewNonce();
    private readonly Lock _gate = new();
    private readonly Dictionary<int, SessionFunction> _functions = [];
    private readonly HashSet<string> _requested = new(StringComparer.OrdinalIgnoreCase);
    private byte[]? _clientNonce;
    private long _lastHeard = Environment.TickCount64;
    private volatile bool _authenticated;
    private bool _refused;

    public ClientSession(NodeHost node, Socket socket)
    {
        _node = node;
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _connection = new FrameConnection(new NetworkStream(socket, ownsSocket: true), Handshake.PreAuthenticationMaxPayload, OnFrame);
    }

    public bool IsAuthenticated => _authenticated;

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
        _connection.Start();
        _connection.Send(Handshake.Hello(Handshake.NodeRole, _nodeNonce));
        _ = WatchAsync();
    }

    /// <summary>The node is shutting down: tell the client, so it reschedules our jobs elsewhere now, then close.</summary>
    public void Leave()
    {
        _connection.Send(Signal.Leaving);
        _connection.CompleteSending();
    }

    /// <summary>Closes a connection that does not authenticate in time, or goes silent for longer than the socket timeout.</summary>
    private async Task WatchAsync()
    {
        Task<Exception?> closed = _connection.Completion;
        if (await Task.WhenAny(closed, Task.Delay(_node.Options.HandshakeTimeout)).ConfigureAwait(false) != closed && !_authenticated)
        {
            Log.AuthenticationFailed(_node.Logger, _peer, "no handshake within the time limit");
            _connection.Close(new ProtocolException("handshake timeout"));
        }

        TimeSpan timeout = _node.Options.SocketTimeout;
        while (await Task.WhenAny(closed, Task.Delay(timeout / 4)).ConfigureAwait(false) != closed)
        {
            if (Environment.TickCount64 - Interlocked.Read(ref _lastHeard) > timeout.TotalMilliseconds)
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

        _node.OnClosed(this);
    }

    /// <summary>Handles one frame on the read loop; a <see cref="ProtocolException"/> closes only this session.</summary>
    private void OnFrame(MessageType type, ReadOnlySequence<byte> payload)
    {
        Interlocked.Exchange(ref _lastHeard, Environment.TickCount64);
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
            case MessageType.Ping:
                _connection.Send(Signal.Pong);
                break;
            default:
                throw new ProtocolException($"a client may not send {type} frames.");
        }
    }

    private void Authenticate(MessageType type, ReadOnlySequence<byte> payload)
    {
        try
        {
            switch (type)
            {
                case MessageType.NodeHello when _clientNonce is null:
                    _clientNonce = Handshake.ReadHello(payload, Handshake.ClientRole);
                    _connection.Send(Handshake.Proof(Secret, Handshake.NodeRole, _clientNonce, _nodeNonce));
                    return;
                case MessageType.AuthProof when _clientNonce is not null:
                    if (!Handshake.Verify(payload, Secret, Handshake.ClientRole, _clientNonce, _nodeNonce))
                    {
                        throw new ProtocolException("authentication failed (wrong secret?)");
                    }

                    _authenticated = true;
                    _connection.MaxPayload = _node.Options.MaxMessageSize;
                    _connection.Send(Signal.Of(MessageType.NodeInfo, (ref MessagePackWriter w) => w.Write(_node.Workers)));
                    _node.OnAuthenticated(this);
                    Log.ClientConnected(_node.Logger, _peer);
                    return;
                default:
                    throw new ProtocolException($"unexpected {type} frame before authentication");
            }
        }
        catch (ProtocolException ex)
        {
            Log.AuthenticationFailed(_node.Logger, _peer, ex.Message);
            _refused = true;
            _connection.Send(Signal.Error(ex.Message));
            _connection.CloseAfterSending(ex);
        }
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
        if (!_node.Cache.TryAdd(sha, content.ToArray()))
        {
            throw new ProtocolException($"the uploaded assembly does not match its SHA-256 {sha}.");
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
        foreach ((long clientJobId, byte[] body) in function.Held)
        {
            _node.Scheduler.Enqueue(new ForwardedWorkItem(this, clientJobId, _node.NextJobId(), function.Definition, body));
        }

        function.Held.Clear();
    }

    private void Run(ReadOnlySequence<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        long clientJobId = (long)reader.ReadUInt64();
        int functionId = reader.ReadInt32();
        reader.ReadBoolean(); // The node's own workers acknowledge starts to the node, as its scheduler asks.
        byte[] body = payload.Slice(reader.Position).ToArray();
        lock (_gate)
        {
            if (!_functions.TryGetValue(functionId, out SessionFunction? function))
            {
                throw new ProtocolException($"a job for function {functionId}, which was never defined.");
            }

            if (function.Definition is null)
            {
                function.Held.Add((clientJobId, body)); // Its code is still being uploaded.
            }
            else
            {
                _node.Scheduler.Enqueue(new ForwardedWorkItem(this, clientJobId, _node.NextJobId(), function.Definition, body));
            }
        }
    }

    /// <summary>Sends a job's outcome back under the client's own job id; dropped if the client has gone.</summary>
    internal void Answer(long clientJobId, in WorkOutcome outcome)
    {
        IOutgoingFrame frame = outcome.Kind switch
        {
            OutcomeKind.Succeeded => new Messages.JobSucceeded(clientJobId, outcome.Elapsed.Ticks, outcome.Output, outcome.Result),
            OutcomeKind.Failed => new Messages.JobFailed(clientJobId, outcome.Elapsed.Ticks, outcome.Output, outcome.ErrorType ?? "System.Exception", outcome.ErrorMessage ?? string.Empty, outcome.ErrorStackTrace, outcome.ErrorDetail),
            _ => new Messages.JobFailed(clientJobId, 0, null, outcome.LocalError?.GetType().FullName ?? "System.Exception", outcome.LocalError?.Message ?? "The job was lost.", null),
        };
        _connection.Send(frame);
    }

    private sealed class SessionFunction(FunctionDescription description)
    {
        public FunctionDescription Description { get; } = description;

        public FunctionDefinition? Definition { get; set; }

        /// <summary>Jobs that arrived before the function's assemblies: their client job ids and bodies.</summary>
        public List<(long ClientJobId, byte[] Body)> Held { get; } = [];
    }
}

/// <summary>A client's job inside a node: runs on the node's workers, answers the client that sent it.</summary>
internal sealed class ForwardedWorkItem(ClientSession session, long clientJobId, long id, FunctionDefinition function, byte[] body)
    : WorkItem(id, function, body)
{
    public ClientSession Session { get; } = session;

    public override void Complete(in WorkOutcome outcome) => Session.Answer(clientJobId, outcome);
}
