namespace PPSharp.Server;

/// <summary>
/// A setting's value as text, before validation, and where it came from (<c>-p/--port</c>,
/// <c>[network] port in /etc/ppserver.ini</c>, ...), so that an error message can point at the exact source.
/// </summary>
internal sealed record RawValue(string Text, string Origin);
