using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using MessagePack;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;
using PPSharp.Protocol;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Remote;

/// <summary>
/// A <c>ppserver</c> node as the client's scheduler sees it: one TCP connection (Nagle off) carrying many jobs at once,
/// capacity equal to the node's worker count. Listed nodes are persistent: when the connection cannot be made or
/// breaks, the node's jobs go back to the queue (to run elsewhere) and the connection is retried every few seconds.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Each connection is disposed when it ends; DisposeAsync ends the loop.")]
internal sealed class RemoteNode : JobExecutor, IAsyncDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly string _host;
    private readonly int _port;
    private readonly string _secret;
    private readonly Scheduler _scheduler;
    private readonly ILogger _logger;
    private readonly TimeSpan _socketTimeout;
    private readonly int _maxMessageSize;
    private readonly CancellationTokenSource _disposed = new();
    private readonly bool _persistent;
    private readonly Action<RemoteNode>? _gone;
    private Task? _loop;
    private volatile FrameConnection? _connection;

    /// <summary>
    /// The connection jobs go out on: set once the node has proved itself (NodeInfo), cleared when that connection
    /// ends. A frame meant for an earlier connection must never go out on a newer one that is still in its handshake:
    /// it would travel unsealed to a peer not yet proven.
    /// </summary>
    private volatile FrameConnection? _ready;
    private volatile int _capacity;
    private Messages.NodeLoad? _load;

    // persistent: listed nodes are retried for ever; discovered ones are dropped (gone is called) once unreachable.
    public RemoteNode(string host, int port, string? secret, Scheduler scheduler, ILogger logger, TimeSpan socketTimeout, int maxMessageSize, bool persistent = true, Action<RemoteNode>? gone = null)
    {
        _persistent = persistent;
        _gone = gone;
        _host = host;
        _port = port;
        _secret = secret ?? string.Empty;
        _scheduler = scheduler;
        _logger = logger;
        _socketTimeout = socketTimeout;
        _maxMessageSize = maxMessageSize;
        Node = $"{host}:{port}";
    }

    public override string Node { get; }

    public override int Priority => 1;

    public override bool ForwardsInitializer => true;

    public override int Capacity => Math.Max(1, _capacity);

    /// <summary>TLS around the connection (<see cref="JobServerOptions.Tls"/>), or null for none.</summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    /// <summary>State and last error, for <c>JobServer.GetNodeStatus</c> and for failing jobs no node will take.</summary>
    public NodeHealth Health { get; } = new();

    /// <summary>True while connected and authenticated.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>
    /// The node's latest answer to a ping: its workers' resident memory, CPU time and busy flags (for the dashboard),
    /// and when the node read them. Null until the first answer on the current connection.
    /// </summary>
    public Messages.NodeLoad? Load
    {
        get => Volatile.Read(ref _load);
        private set => Volatile.Write(ref _load, value);
    }

    /// <summary>Parses "host" or "host:port" (ppft's default port 60000), IPv6 as "[::1]:port".</summary>
    public static (string Host, int Port) Parse(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        string text = address.Trim();
        int colon = text.LastIndexOf(':');
        bool bracketed = text.StartsWith('[');
        if (colon < 0 || (bracketed && colon < text.IndexOf(']', StringComparison.Ordinal)) || (!bracketed && text.IndexOf(':', StringComparison.Ordinal) != colon))
        {
            return (text.Trim('[', ']'), NodeHostOptions.DefaultPort);
        }

        if (!int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{address}' is not a node address: the port must be a number from 1 to 65535.", nameof(address));
        }

        return (text[..colon].Trim('[', ']'), port);
    }

    public void Start() => _loop = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            string? reason = null;
            try
            {
                reason = await ServeOneConnectionAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ProtocolException or TimeoutException)
            {
                reason = ex.Message;
                NoteUnreachable(ex.Message);
            }

            if (IsConnected)
            {
                IsConnected = false;
                // Every job sent there and not answered goes back to the front of the queue (jobs are idempotent):
                // its answer can no longer arrive, so it is delivered exactly once, by whoever runs it next.
                _scheduler.RemoveExecutor(this, blame: null);
                if (_disposed.IsCancellationRequested)
                {
                    Log.NodeDisconnected(_logger, Node); // this job server is being disposed: nothing was lost
                }
                else
                {
                    Log.NodeLost(_logger, Node, reason ?? "the connection closed");
                }

                Health.Unreachable(reason ?? "the connection closed");
            }

            if (!_persistent)
            {
                _gone?.Invoke(this); // Discovered nodes are used while they answer; found again, they come back.
                return;
            }

            try
            {
                await Task.Delay(RetryInterval, _disposed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The client's TLS settings for this node: its host name unless the settings name one.</summary>
    private SslClientAuthenticationOptions ForThisNode(SslClientAuthenticationOptions tls) => new()
    {
        TargetHost = tls.TargetHost ?? _host,
        RemoteCertificateValidationCallback = tls.RemoteCertificateValidationCallback,
        ClientCertificates = tls.ClientCertificates,
        EnabledSslProtocols = tls.EnabledSslProtocols,
        CertificateRevocationCheckMode = tls.CertificateRevocationCheckMode,
        CertificateChainPolicy = tls.CertificateChainPolicy,
    };

    /// <summary>Connects, authenticates, serves until the connection ends; returns why it ended.</summary>
    private async Task<string?> ServeOneConnectionAsync()
    {
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        connectTimeout.CancelAfter(ConnectTimeout);
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(_host, _port, connectTimeout.Token).ConfigureAwait(false);
        Stream stream = client.GetStream();
        if (Tls is { } tls)
        {
            // TLS first; the secret's handshake and the sealed frames then run inside it.
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(ForThisNode(tls), connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                client.Dispose();
                string why = $"the TLS handshake failed ({ex.Message}); is the node started with --tls-cert, and is its certificate trusted here (JobServerOptions.Tls)?";
                Health.Refuse(why, () => Log.NodeRefused(_logger, Node, why));
                return why;
            }

            stream = ssl;
        }

        Load = null; // a load read on an earlier connection describes workers that may be gone
        var session = new ConnectionState(Handshake.NewNonce());
        var connection = new FrameConnection(stream, Handshake.PreAuthenticationMaxPayload, (type, payload) => OnFrame(session, type, payload)) { Peer = Node };
        session.Connection = connection;
        _connection = connection;
        connection.Start();
        connection.Send(Handshake.Hello(Handshake.ClientRole, session.ClientNonce));
        try
        {
            Task ready = session.Ready.Task;
            if (await Task.WhenAny(ready, connection.Completion, Task.Delay(ConnectTimeout, _disposed.Token)).ConfigureAwait(false) != ready)
            {
                string why = session.Refusal ?? (connection.Completion.IsCompleted ? connection.Completion.Result?.Message ?? "the node closed the connection" : "no handshake in time");
                if (session.Refusal is null)
                {
                    NoteUnreachable(why);
                }
                else
                {
                    Health.Refuse(why, () => Log.NodeRefused(_logger, Node, why)); // logged once per new reason, not at every retry
                }

                return why;
            }

            connection.MaxPayload = _maxMessageSize;
            _capacity = session.Workers;
            _ready = connection;
            IsConnected = true;
            Health.Connected();
            Log.NodeConnected(_logger, Node, session.Workers);
            _scheduler.AddExecutor(this);
            return await HeartbeatAsync(connection, session).ConfigureAwait(false);
        }
        finally
        {
            _ready = null;
            connection.Close();
            await connection.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
        }
    }

    /// <summary>Pings while connected; a node silent for longer than the socket timeout is treated as dead.</summary>
    private async Task<string?> HeartbeatAsync(FrameConnection connection, ConnectionState session)
    {
        TimeSpan interval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, _socketTimeout.Ticks / 4));
        Task<Exception?> closed = connection.Completion;
        connection.Send(Signal.Ping); // at once: the answer carries the node's load, wanted before the first interval
        while (await Task.WhenAny(closed, Task.Delay(interval, _disposed.Token)).ConfigureAwait(false) != closed)
        {
            if (_disposed.IsCancellationRequested)
            {
                return "the job server was destroyed";
            }

            if (connection.MillisecondsSinceReceived > _socketTimeout.TotalMilliseconds)
            {
                return $"no answer for {_socketTimeout.TotalSeconds} s";
            }

            connection.Send(Signal.Ping);
        }

        return session.Leaving ? "the node is shutting down" : (await closed.ConfigureAwait(false))?.Message;
    }

    private void OnFrame(ConnectionState session, MessageType type, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case MessageType.Error:
                session.Refusal = Handshake.ReadError(payload);
                throw new ProtocolException(session.Refusal);
            case MessageType.NodeHello when session.NodeNonce is null:
                byte[]? salt;
                try
                {
                    (session.NodeNonce, salt) = Handshake.ReadHello(payload, Handshake.NodeRole);
                }
                catch (ProtocolException ex)
                {
                    session.Refusal = ex.Message; // A version mismatch: said on both sides, logged as an error here.
                    session.Connection!.Send(Signal.Error(ex.Message));
                    throw;
                }

                if (salt is not null)
                {
                    _ = ProveAsync(session.Connection!, session, salt); // The key derivation is slow on purpose: off the read loop.
                }

                break;
            case MessageType.AuthProof when session.Key is { } key && !session.NodeProven:
                if (!Handshake.Verify(payload, key, Handshake.NodeRole, session.ClientNonce, session.NodeNonce!))
                {
                    session.Refusal = "the node could not prove it knows the secret (wrong secret?)";
                    throw new ProtocolException(session.Refusal);
                }

                session.NodeProven = true;
                session.Connection!.ProtectReceiving(new FrameOpener(session.FromNode!)); // Everything after the node's proof is sealed.
                break;
            case MessageType.NodeInfo when session.NodeProven:
                var reader = new MessagePackReader(payload);
                session.Workers = reader.ReadInt32();
                session.Ready.TrySetResult();
                break;
            case MessageType.JobSucceeded or MessageType.JobFailed when session.Ready.Task.IsCompleted:
                (long id, WorkOutcome outcome) = Messages.ReadResult(type, payload, Node);
                _scheduler.Complete(this, id, outcome);
                break;
            case MessageType.JobStarted when session.Ready.Task.IsCompleted:
                _scheduler.Started(this, Messages.JobSignal.Read(payload));
                break;
            case MessageType.JobRevoked when session.Ready.Task.IsCompleted:
                _scheduler.Revoked(this, Messages.JobSignal.Read(payload));
                break;
            case MessageType.NeedAssemblies when session.Ready.Task.IsCompleted:
                var request = new MessagePackReader(payload);
                var wanted = new string[request.ReadArrayHeader()];
                for (int i = 0; i < wanted.Length; i++)
                {
                    wanted[i] = request.ReadString() ?? string.Empty;
                }

                FrameConnection asking = session.Connection!;
                _ = Task.Run(() => Upload(asking, wanted)); // on the connection that asked: if it has ended, nothing goes
                break;
            case MessageType.NodeLoad when session.Ready.Task.IsCompleted:
                Load = Messages.NodeLoad.Read(payload);
                break;
            case MessageType.Leaving when session.Ready.Task.IsCompleted:
                session.Leaving = true;
                throw new ProtocolException("the node is shutting down");
            default:
                throw new ProtocolException($"unexpected {type} frame from the node.");
        }
    }

    /// <summary>
    /// The client's half of <see cref="Handshake"/>: proves first, with the key derived from the secret and the node's
    /// salt, then seals everything it sends after the proof. It sends nothing more until the node has proved itself.
    /// </summary>
    private async Task ProveAsync(FrameConnection connection, ConnectionState session, byte[] salt)
    {
        try
        {
            byte[] key = await SecretKey.DeriveAsync(_secret, salt).ConfigureAwait(false);
            (byte[] toNode, byte[] fromNode) = Handshake.SessionKeys(key, session.ClientNonce, session.NodeNonce!);
            session.FromNode = fromNode;
            session.Key = key; // Set before the proof goes: the node's answer can only follow it.
            connection.Send(Handshake.Proof(key, Handshake.ClientRole, session.ClientNonce, session.NodeNonce!));
            connection.ProtectSending(new FrameSealer(toNode));
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            connection.Close(ex);
        }
    }

    /// <summary>A warning for the first failure of a streak (or a new reason); the retry loop's repeats at Debug.</summary>
    private void NoteUnreachable(string reason)
    {
        if (Health.Unreachable(reason))
        {
            Log.NodeUnreachableWarning(_logger, Node, reason);
        }
        else
        {
            Log.NodeUnreachable(_logger, Node, reason);
        }
    }

    /// <summary>Sends the assemblies the node lacks on the connection that asked; each is read from disk (once for all nodes) off the read loop.</summary>
    private static void Upload(FrameConnection connection, string[] wanted)
    {
        foreach (string sha in wanted)
        {
            if (CodeSets.ContentOf(sha) is not { } content)
            {
                continue; // Not ours: the node's jobs for it will fail to load, with the reason.
            }

            connection.Send(Signal.Of(MessageType.AssemblyData, (ref MessagePackWriter w) =>
            {
                w.Write(sha);
                w.Write(content);
            }));
        }
    }

    /// <summary>
    /// A node holds one more job per worker than a local worker would, to cover the network round trip: its own
    /// workers keep theirs queued ahead, and one more waits in its queue. Local workers still come first, since free
    /// slots rank before sending ahead, and what a node holds ahead is taken back when a slot elsewhere frees up.
    /// </summary>
    internal override int MaxHeld(WorkItem item) => base.MaxHeld(item) + Capacity;

    internal override void Send(IOutgoingFrame frame) => _ready?.Send(frame);

    internal override void OnDrained()
    {
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        _connection?.Close();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _disposed.Dispose();
    }

    /// <summary>What one connection has learned; touched by its read loop and its heartbeat.</summary>
    private sealed class ConnectionState(byte[] clientNonce)
    {
        public byte[] ClientNonce { get; } = clientNonce;

        public byte[]? NodeNonce { get; set; }

        public bool NodeProven { get; set; }

        /// <summary>The derived secret, once this side has sent its proof.</summary>
        public volatile byte[]? Key;

        /// <summary>The key of the node's sealed frames.</summary>
        public byte[]? FromNode { get; set; }

        public int Workers { get; set; }

        /// <summary>This connection: what its frames are answered on.</summary>
        public FrameConnection? Connection { get; set; }

        public string? Refusal { get; set; }

        public bool Leaving { get; set; }

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
