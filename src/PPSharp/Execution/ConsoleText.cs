using System.Globalization;
using System.Text;

namespace PPSharp.Execution;

/// <summary>
/// A job's console output as it travels in the output field of a result frame, keeping standard output and standard
/// error apart. Output written only to standard output travels as plain text (as before); once anything went to
/// standard error, the text is U+0001 followed by segments <c>o&lt;length&gt;:&lt;text&gt;</c> (standard output) or
/// <c>e&lt;length&gt;:&lt;text&gt;</c> (standard error), in the order written. Text that does not parse is taken as
/// plain standard output.
/// </summary>
internal static class ConsoleText
{
    private const char Marker = '\u0001';

    /// <summary>Encodes <paramref name="text"/>, where <paramref name="errorRuns"/> marks the [start, end) ranges written to standard error.</summary>
    public static string Encode(string text, IReadOnlyList<(int Start, int End)> errorRuns)
    {
        if (errorRuns.Count == 0 && (text.Length == 0 || text[0] != Marker))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16).Append(Marker);
        int at = 0;
        foreach ((int start, int end) in errorRuns)
        {
            Append(sb, 'o', text, at, start);
            Append(sb, 'e', text, start, end);
            at = end;
        }

        Append(sb, 'o', text, at, text.Length);
        return sb.ToString();
    }

    /// <summary>The segments in order: (true for standard error, text).</summary>
    public static List<(bool Error, string Text)> Decode(string? encoded)
    {
        List<(bool Error, string Text)> segments = [];
        if (string.IsNullOrEmpty(encoded))
        {
            return segments;
        }

        if (encoded[0] == Marker)
        {
            int at = 1;
            while (at < encoded.Length)
            {
                int colon = encoded.IndexOf(':', at);
                if ((encoded[at] is not ('o' or 'e')) || colon < 0
                    || !int.TryParse(encoded.AsSpan(at + 1, colon - at - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                    || colon + 1 + length > encoded.Length)
                {
                    return [(false, encoded)];
                }

                segments.Add((encoded[at] == 'e', encoded.Substring(colon + 1, length)));
                at = colon + 1 + length;
            }

            return segments;
        }

        segments.Add((false, encoded));
        return segments;
    }

    /// <summary>Both streams merged, in the order written.</summary>
    public static string Merge(string? encoded) =>
        encoded is null || encoded.Length == 0 || encoded[0] != Marker ? encoded ?? string.Empty : string.Concat(Decode(encoded).Select(s => s.Text));

    private static void Append(StringBuilder sb, char kind, string text, int start, int end)
    {
        if (end > start)
        {
            sb.Append(kind).Append(end - start).Append(':').Append(text, start, end - start);
        }
    }
}
