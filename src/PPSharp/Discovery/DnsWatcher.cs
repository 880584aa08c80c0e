using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;

namespace PPSharp.Discovery;

/// <summary>
/// <c>dns:NAME:PORT</c> in <c>ppservers</c>: resolves NAME now and every <see cref="Interval"/>, and reports every
/// address it returns, so a fleet of nodes behind one name (a Kubernetes headless service, say) is found and kept
/// current without broadcast. Addresses that leave DNS are not reconnected once their connection ends.
/// </summary>
internal sealed class DnsWatcher : IDisposable
{
    public const string Prefix = "dns:";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly string _name;
    private readonly int _port;
    private readonly Action<string, int> _found;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();

    private DnsWatcher(string name, int port, Action<string, int> found, ILogger logger)
    {
        _name = name;
        _port = port;
        _found = found;
        _logger = logger;
        _ = Task.Run(WatchAsync);
    }

    public static bool IsDnsName(string address) => address.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <exception cref="ArgumentException">Not of the form <c>dns:NAME:PORT</c>.</exception>
    public static DnsWatcher Start(string address, Action<string, int> found, ILogger logger)
    {
        (string name, int port) = Parse(address);
        return new DnsWatcher(name, port, found, logger);
    }

    /// <exception cref="ArgumentException">Not of the form <c>dns:NAME:PORT</c>.</exception>
    public static (string Name, int Port) Parse(string address)
    {
        string rest = address[Prefix.Length..];
        int colon = rest.LastIndexOf(':');
        string name = colon < 0 ? rest : rest[..colon];
        int port = Remote.NodeHostOptions.DefaultPort;
        if ((colon >= 0 && (!int.TryParse(rest.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            || string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"'{address}' is not of the form dns:NAME:PORT.", nameof(address));
        }

        return (name, port);
    }

    private async Task WatchAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                foreach (IPAddress address in await Dns.GetHostAddressesAsync(_name, _stop.Token).ConfigureAwait(false))
                {
                    if (address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                    {
                        _found(address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString(), _port);
                    }
                }
            }
            catch (SocketException ex)
            {
                Log.DnsFailed(_logger, _name, ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
