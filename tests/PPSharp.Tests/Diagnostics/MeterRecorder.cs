using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PPSharp.Tests.Diagnostics;

/// <summary>Listens to every instrument of the <c>PPSharp</c> meter and keeps each measurement with its tags.</summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public MeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "PPSharp")
            {
                Instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    /// <summary>Every instrument of the meter, by name.</summary>
    public ConcurrentDictionary<string, Instrument> Instruments { get; } = new();

    public IReadOnlyList<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measurements(string instrument) =>
        [.. _measurements.Where(m => m.Instrument == instrument)];

    /// <summary>The sum of a counter's measurements (optionally those with a tag of a given value).</summary>
    public double Sum(string instrument, string? tag = null, object? value = null) =>
        Measurements(instrument).Where(m => tag is null || Equals(m.Tags.GetValueOrDefault(tag), value)).Sum(m => m.Value);

    /// <summary>Asks the observable gauges for their values now.</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    public void Clear() => _measurements.Clear();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue((instrument.Name, value, copy));
    }
}
