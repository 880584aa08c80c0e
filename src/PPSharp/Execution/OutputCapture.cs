using System.Text;

namespace PPSharp.Execution;

/// <summary>
/// Replaces <see cref="Console.Out"/> and <see cref="Console.Error"/> in a worker so that what a job writes is kept
/// per job (both streams merged, in order) and sent back with its result, as ppft does. The real stdout is never the
/// job channel, so even raw writes to the stdout handle cannot corrupt it; they go to the worker's own stdout.
/// </summary>
internal sealed class OutputCapture : TextWriter
{
    private readonly Lock _gate = new();
    private readonly TextWriter _fallback;
    private StringBuilder? _current;
    private bool _capturing;

    private OutputCapture(TextWriter fallback)
    {
        _fallback = fallback;
    }

    public override Encoding Encoding => Encoding.UTF8;

    public static OutputCapture Install()
    {
        var capture = new OutputCapture(Console.Out);
        Console.SetOut(capture);
        Console.SetError(capture);
        return capture;
    }

    public void Begin()
    {
        lock (_gate)
        {
            _capturing = true; // The buffer is made on the first write: most jobs write nothing.
        }
    }

    /// <summary>Ends the current job's capture; returns what it wrote, or null if nothing.</summary>
    public string? End()
    {
        lock (_gate)
        {
            string? text = _current is { Length: > 0 } sb ? sb.ToString() : null;
            _current = null;
            _capturing = false;
            return text;
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (_capturing)
            {
                (_current ??= new StringBuilder()).Append(value);
            }
            else
            {
                _fallback.Write(value);
            }
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            if (_capturing)
            {
                (_current ??= new StringBuilder()).Append(value);
            }
            else
            {
                _fallback.Write(value);
            }
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer) => Write(new string(buffer));

    public override void WriteLine(string? value) => Write(value + Environment.NewLine);

    public override void Flush()
    {
        lock (_gate)
        {
            _fallback.Flush();
        }
    }
}
