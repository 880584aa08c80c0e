using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace PPSharp.Server;

/// <summary>
/// Merges the command line, the environment and the ppft config file into <see cref="ServerSettings"/>, checking
/// every value. Precedence: a value on the command line wins over the config file (ppft reads <c>-c</c> first and
/// lets later options override it); the secret is <c>-s</c>, else <c>$PPSHARP_SECRET</c>, else the config file.
/// </summary>
/// <remarks>
/// Every error is a <see cref="SettingsException"/> whose message names the value, where it came from
/// (<c>-p/--port</c> or <c>[network] port in /path/to/file.ini</c>) and what was expected.
/// </remarks>
internal static class SettingsLoader
{
    /// <summary>The most workers one node starts; more is taken for a typing mistake.</summary>
    public const int MaxWorkers = 1024;

    /// <summary>The largest assembly cache quota accepted, in MiB (1 TiB).</summary>
    public const int MaxCacheMiB = 1 << 20;

    /// <summary>Timeouts are bounded by what .NET timers accept (int.MaxValue milliseconds, about 24.8 days).</summary>
    private const double MaxSeconds = int.MaxValue / 1000;

    public static ServerSettings Load(IReadOnlyDictionary<Setting, RawValue> commandLine, Func<string, string?> environment)
    {
        var warnings = new List<string>();
        string? configFile = null;
        IReadOnlyDictionary<Setting, RawValue> config = new Dictionary<Setting, RawValue>();
        if (commandLine.TryGetValue(Setting.Config, out RawValue? configValue))
        {
            configFile = FullPath(configValue);
            config = ReadConfigFile(configFile, warnings);
        }

        RawValue? Given(Setting setting) => commandLine.GetValueOrDefault(setting) ?? config.GetValueOrDefault(setting);

        (string? secret, string? secretOrigin) = ChooseSecret(commandLine, config, environment);
        int? workers = Given(Setting.Workers) is { } w ? ParseInt(w, 1, MaxWorkers) : null;
        IPAddress? listenOn = Given(Setting.Interface) is { } i ? ParseInterface(i) : null;
        if (listenOn is not null && secret is null && !IPAddress.IsLoopback(listenOn))
        {
            RawValue origin = Given(Setting.Interface)!;
            throw new SettingsException(
                $"refusing to listen on {origin.Text} ({origin.Origin}) without a secret: anyone who can reach it could run code here. " +
                $"Give a secret with -s, the environment variable {ServerSettings.SecretEnvironmentVariable} or [general] secret in a config file, " +
                "or listen on 127.0.0.1.");
        }

        return new ServerSettings
        {
            Debug = Given(Setting.Debug) is { } d && ParseBool(d),
            LogFormat = Given(Setting.LogFormat) is { } f ? ParseLogFormat(f) : LogFormat.Parse(LogFormat.Default),
            AutoDiscovery = Given(Setting.AutoDiscovery) is { } a && ParseBool(a),
            Restart = Given(Setting.Restart) is { } r && ParseBool(r),
            Protocol = Given(Setting.Proto) is { } n ? ParseProtocol(n) : ServerSettings.SupportedProtocol,
            ConfigFile = configFile,

            // ppft listens on every interface by default; without a secret that would let anyone run code, so
            // the default is then loopback (and the program says so).
            Interface = listenOn ?? (secret is null ? IPAddress.Loopback : IPAddress.Any),
            Broadcast = Given(Setting.Broadcast) is { } b ? ParseAddress(b) : null,
            Port = Given(Setting.Port) is { } p ? ParseInt(p, 0, IPEndPoint.MaxPort) : ServerSettings.DefaultPort,
            Workers = workers ?? JobServer.DetectNcpus(),
            Secret = secret,
            SecretOrigin = secretOrigin,
            Salt = Given(Setting.Salt) is { } salt ? ParseSalt(salt) : null,
            IdleTimeout = Given(Setting.Timeout) is { } t ? ParseSeconds(t) : null,
            SocketTimeout = Given(Setting.SocketTimeout) is { } k ? ParseSeconds(k) : null,
            PidFile = Given(Setting.PidFile) is { } pid ? FullPath(pid) : null,
            MetricsPort = Given(Setting.MetricsPort) is { } mp ? ParseInt(mp, 0, IPEndPoint.MaxPort) : null,
            MetricsInterface = Given(Setting.MetricsInterface) is { } mi ? ParseInterface(mi) : IPAddress.Loopback,
            CacheSizeLimit = Given(Setting.CacheSize) is { } c ? (long)ParseInt(c, 1, MaxCacheMiB) << 20 : PPSharp.Remote.NodeHostOptions.DefaultCacheSizeLimit,
            AddressFile = Given(Setting.AddressFile) is { } address ? FullPath(address) : null,
            MaxMessageSize = Given(Setting.MaxMessageSize) is { } mm ? BytesOfMiB(ParseInt(mm, 1, 2048)) : JobServerOptions.DefaultMaxMessageSize,
            MaxJobOutputSize = Given(Setting.MaxOutput) is { } mo ? ParseInt(mo, 2, int.MaxValue) : JobServerOptions.DefaultMaxJobOutputSize,
            MaxConnections = Given(Setting.MaxConnections) is { } mc ? ParseInt(mc, 1, 1_000_000) : PPSharp.Remote.NodeHostOptions.DefaultMaxConnections,
            TlsCertificate = Given(Setting.TlsCert) is { } cert ? LoadCertificate(cert, Given(Setting.TlsKey)) : Given(Setting.TlsKey) is { } key
                ? throw new SettingsException($"{Setting.TlsKey.OptionNames} ({key.Origin}) needs {Setting.TlsCert.OptionNames}")
                : null,
            MaxJobsPerWorker = Given(Setting.MaxJobsPerWorker) is { } mj ? ParseInt(mj, 0, int.MaxValue) : 0,
            MaxQueuedJobsPerClient = Given(Setting.MaxQueuedJobs) is { } mq ? ParseInt(mq, 1, int.MaxValue) : PPSharp.Remote.NodeHostOptions.DefaultMaxQueuedJobsPerClient,
            Warnings = warnings,
        };
    }

    /// <summary>Loads a TLS certificate with its private key: PKCS#12 by extension, else PEM (the key in its own file or beside the certificate).</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate(RawValue cert, RawValue? key)
    {
        string path = FullPath(cert);
        try
        {
            System.Security.Cryptography.X509Certificates.X509Certificate2 certificate =
                path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                    ? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(path, password: null)
                    : System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(path, key is null ? null : FullPath(key));
            if (!certificate.HasPrivateKey)
            {
                throw new SettingsException($"the TLS certificate {path} ({cert.Origin}) has no private key: give it with {Setting.TlsKey.OptionNames}");
            }

            return certificate;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new SettingsException($"cannot load the TLS certificate {path} ({cert.Origin}): {ex.Message}", ex);
        }
    }

    /// <summary>A salt: exactly <see cref="PPSharp.Remote.SecretKey.SaltSize"/> bytes, in hex.</summary>
    private static byte[] ParseSalt(RawValue value)
    {
        const int Digits = PPSharp.Remote.SecretKey.SaltSize * 2;
        if (value.Text.Length == Digits && value.Text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(value.Text);
        }

        throw Bad(value, $"expected {Digits} hex digits (for example from: openssl rand -hex {PPSharp.Remote.SecretKey.SaltSize})");
    }

    /// <summary>MiB as bytes for a message size: 2048 MiB is the most one .NET array can hold, 2 GiB less one byte.</summary>
    private static int BytesOfMiB(int mib) => mib >= 2048 ? int.MaxValue : mib << 20;

    /// <summary>
    /// Reads ppft's INI layout with Microsoft.Extensions.Configuration's INI parser. Keys are matched without
    /// regard to case, as that parser does; unknown keys are reported as warnings rather than errors, since ppft
    /// ignores them too.
    /// </summary>
    private static Dictionary<Setting, RawValue> ReadConfigFile(string path, List<string> warnings)
    {
        if (Directory.Exists(path))
        {
            throw new SettingsException($"config file {path} is a directory");
        }

        if (!File.Exists(path))
        {
            throw new SettingsException($"config file not found: {path}");
        }

        IConfigurationRoot root;
        try
        {
            using FileStream stream = File.OpenRead(path);
            root = new ConfigurationBuilder().AddIniStream(stream).Build();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new SettingsException($"cannot read config file {path}: {e.Message}", e);
        }

        var values = new Dictionary<Setting, RawValue>();
        foreach ((string key, string? value) in root.AsEnumerable())
        {
            if (value is null)
            {
                continue; // a section itself
            }

            int colon = key.IndexOf(':', StringComparison.Ordinal);
            string section = colon < 0 ? string.Empty : key[..colon];
            string name = colon < 0 ? key : key[(colon + 1)..];
            Setting? setting = Setting.All.FirstOrDefault(s =>
                string.Equals(s.Section, section, StringComparison.OrdinalIgnoreCase) &&
                string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase));
            if (setting is null)
            {
                warnings.Add(colon < 0
                    ? $"key {name} outside any section in {path} is ignored"
                    : $"unknown key [{section}] {name} in {path} is ignored");
                continue;
            }

            values[setting] = new RawValue(value, $"{setting.IniName} in {path}");
        }

        (root as IDisposable)?.Dispose();
        return values;
    }

    private static (string? Secret, string? Origin) ChooseSecret(
        IReadOnlyDictionary<Setting, RawValue> commandLine, IReadOnlyDictionary<Setting, RawValue> config, Func<string, string?> environment)
    {
        if (commandLine.TryGetValue(Setting.Secret, out RawValue? given))
        {
            // An empty -s is a mistake rather than a wish for no secret: say so instead of silently going loopback-only.
            return given.Text.Length > 0 ? (given.Text, given.Origin) : throw Bad(given, "expected a non-empty secret");
        }

        // An empty variable or config value counts as unset, as shells and INI templates often leave them so.
        string? fromEnvironment = environment(ServerSettings.SecretEnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return (fromEnvironment, $"environment variable {ServerSettings.SecretEnvironmentVariable}");
        }

        return config.TryGetValue(Setting.Secret, out RawValue? configured) && configured.Text.Length > 0
            ? (configured.Text, configured.Origin)
            : (null, null);
    }

    private static int ParseInt(RawValue value, int min, int max)
    {
        if (int.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number) && number >= min && number <= max)
        {
            return number;
        }

        throw Bad(value, $"expected a whole number {min}-{max}");
    }

    private static int ParseProtocol(RawValue value)
    {
        if (int.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number) && number == ServerSettings.SupportedProtocol)
        {
            return number;
        }

        throw Bad(value, $"this ppserver speaks protocol version {ServerSettings.SupportedProtocol} only");
    }

    /// <summary>Booleans as ppft's configobj reads them.</summary>
    private static bool ParseBool(RawValue value) => value.Text.ToUpperInvariant() switch
    {
        "TRUE" or "YES" or "ON" or "1" => true,
        "FALSE" or "NO" or "OFF" or "0" => false,
        _ => throw Bad(value, "expected true or false (or yes/no, on/off, 1/0)"),
    };

    private static TimeSpan ParseSeconds(RawValue value)
    {
        if (double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= MaxSeconds)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        throw Bad(value, $"expected a number of seconds greater than 0 and at most {MaxSeconds:0}");
    }

    private static IPAddress ParseAddress(RawValue value) =>
        IPAddress.TryParse(value.Text, out IPAddress? address) ? address : throw Bad(value, "expected an IP address");

    /// <summary>An IP address, or a host name resolved now (IPv4 preferred, as ppft listens on IPv4).</summary>
    private static IPAddress ParseInterface(RawValue value)
    {
        if (IPAddress.TryParse(value.Text, out IPAddress? address))
        {
            return address;
        }

        if (value.Text.Length == 0 || Uri.CheckHostName(value.Text) != UriHostNameType.Dns)
        {
            throw Bad(value, "expected an IP address or a host name");
        }

        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(value.Text);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? addresses.FirstOrDefault()
                ?? throw Bad(value, "the host name has no address");
        }
        catch (SocketException e)
        {
            throw Bad(value, $"the host name does not resolve ({e.Message})");
        }
    }

    private static LogFormat ParseLogFormat(RawValue value)
    {
        try
        {
            return LogFormat.Parse(value.Text);
        }
        catch (FormatException e)
        {
            throw Bad(value, e.Message);
        }
    }

    private static string FullPath(RawValue value)
    {
        try
        {
            return value.Text.Length > 0 ? Path.GetFullPath(value.Text) : throw Bad(value, "expected a path");
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Bad(value, $"expected a path ({e.Message})");
        }
    }

    private static SettingsException Bad(RawValue value, string expectation) =>
        new($"bad value '{value.Text}' for {value.Origin}: {expectation}");
}
