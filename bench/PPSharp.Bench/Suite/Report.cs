using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace PPSharp.Bench.Suite;

/// <summary>One measured figure, with its target from issue 5 and the same run's limit it is compared with.</summary>
/// <param name="Id">A stable key for tools (JSON).</param>
/// <param name="Label">What was measured, for the table.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Text">The figure as printed.</param>
/// <param name="Target">The target, as printed; empty when none.</param>
/// <param name="LimitLabel">Which limit it is compared with; null when none.</param>
/// <param name="Limit">The limit's value (in <paramref name="LimitUnit"/>); null when none.</param>
/// <param name="LimitUnit">The limit's unit.</param>
/// <param name="Ratio">The figure relative to the limit, in the direction the target is stated (see <paramref name="RatioText"/>).</param>
/// <param name="RatioText">The ratio as printed.</param>
/// <param name="Met">Whether the target is met; null when there is no target.</param>
internal sealed record Figure(
    string Id,
    string Label,
    double Value,
    string Unit,
    string Text,
    string Target,
    string? LimitLabel = null,
    double? Limit = null,
    string? LimitUnit = null,
    double? Ratio = null,
    string? RatioText = null,
    bool? Met = null)
{
    /// <summary>What the "met" column says when a yes or no is not the whole story; null for the plain verdict.</summary>
    public string? MetText { get; init; }
}

/// <summary>Prints the figures as a table (Markdown, so it can be pasted into docs/performance.md) and writes them as JSON.</summary>
internal static class Report
{
    public static string N0(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string N1(double value) => value.ToString("N1", CultureInfo.InvariantCulture);

    public static string N2(double value) => value.ToString("N2", CultureInfo.InvariantCulture);

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.ProcessArchitecture}";

    /// <summary>The PPSharp build measured: its version and, when built from a git checkout, its commit.</summary>
    public static string PPSharpVersion() =>
        typeof(JobServer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static void PrintTable(TextWriter output, IReadOnlyList<Figure> figures)
    {
        string[] header = ["figure", "PPSharp", "target (issue 5)", "limit, same run", "vs limit", "met"];
        List<string[]> rows = [.. figures.Select(f => new[]
        {
            f.Label,
            f.Text,
            f.Target,
            f.LimitLabel is null ? "" : $"{f.LimitLabel}",
            f.RatioText ?? "",
            f.MetText ?? f.Met switch { true => "yes", false => "**no**", null => "" },
        })];
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(c => rows.Select(r => r[c].Length).Append(header[c].Length).Max())];
        var text = new StringBuilder();
        void Line(string[] cells) => text.Append("| ").AppendJoin(" | ", cells.Select((c, i) => c.PadRight(widths[i]))).AppendLine(" |");
        Line(header);
        Line([.. widths.Select(w => new string('-', w))]);
        foreach (string[] row in rows)
        {
            Line(row);
        }

        output.Write(text.ToString());
    }

    public static void WriteJson(string path, IReadOnlyList<Figure> figures, DateTimeOffset started, TimeSpan duration, double others, IReadOnlyList<(string Section, double Share)> sections)
    {
        using FileStream file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("started", started);
        json.WriteNumber("durationSeconds", Math.Round(duration.TotalSeconds, 1));
        json.WriteString("machine", Machine());
        json.WriteString("ppsharp", PPSharpVersion());
        json.WriteNumber("processorCount", Environment.ProcessorCount);
        json.WriteNumber("otherProgramsShare", Math.Round(others, 4));
        json.WriteStartObject("otherProgramsShareBySection");
        foreach ((string section, double share) in sections)
        {
            json.WriteNumber(section, Math.Round(share, 4));
        }

        json.WriteEndObject();
        json.WriteStartArray("figures");
        foreach (Figure f in figures)
        {
            json.WriteStartObject();
            json.WriteString("id", f.Id);
            json.WriteString("label", f.Label);
            json.WriteNumber("value", Math.Round(f.Value, 3));
            json.WriteString("unit", f.Unit);
            json.WriteString("target", f.Target);
            if (f.LimitLabel is not null)
            {
                json.WriteString("limitLabel", f.LimitLabel);
            }

            if (f.Limit is { } limit)
            {
                json.WriteNumber("limit", Math.Round(limit, 3));
                json.WriteString("limitUnit", f.LimitUnit);
            }

            if (f.Ratio is { } ratio)
            {
                json.WriteNumber("ratio", Math.Round(ratio, 5));
            }

            if (f.Met is { } met)
            {
                json.WriteBoolean("met", met);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
