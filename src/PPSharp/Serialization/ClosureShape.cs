using System.Reflection;
using System.Runtime.CompilerServices;
using MessagePack;

namespace PPSharp.Serialization;

/// <summary>
/// The captured variables of a compiler-generated closure object that a job's code actually uses (see
/// <see cref="ClosureAnalyzer"/>), with the same for enclosing scopes it reaches. Both sides build it from the same
/// description (type name and field names), so a job carries only the values, in this order.
/// </summary>
internal sealed class ClosureShape
{
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    private readonly FieldSlot[] _slots;
    private readonly ClosureShape?[] _nested;

    private ClosureShape(Type type, FieldSlot[] slots, ClosureShape?[] nested)
    {
        Type = type;
        _slots = slots;
        _nested = nested;
    }

    public Type Type { get; }

    /// <summary>Keeps the fields in <paramref name="accessed"/> (every field when it is null).</summary>
    public static ClosureShape Build(Type type, HashSet<(Module, int)>? accessed)
    {
        FieldInfo[] fields = type.GetFields(InstanceFields)
            .Where(f => accessed is null || accessed.Contains((f.Module, f.MetadataToken)))
            .OrderBy(f => f.MetadataToken)
            .ToArray();
        return new ClosureShape(
            type,
            fields.Select(FieldSlot.Create).ToArray(),
            fields.Select(f => Display.IsCompilerGenerated(f.FieldType) && !f.FieldType.IsValueType ? Build(f.FieldType, accessed) : null).ToArray());
    }

    /// <summary>Writes the description: <c>[type name, [[field name, nested description or nil], ...]]</c>.</summary>
    public void WriteDescription(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(2);
        writer.Write(TypeLoader.GetName(Type));
        writer.WriteArrayHeader(_slots.Length);
        for (int i = 0; i < _slots.Length; i++)
        {
            writer.WriteArrayHeader(2);
            writer.Write(_slots[i].Field.Name);
            if (_nested[i] is { } nested)
            {
                nested.WriteDescription(ref writer);
            }
            else
            {
                writer.WriteNil();
            }
        }
    }

    public static ClosureShape ReadDescription(ref MessagePackReader reader, TypeLoader types)
    {
        if (reader.ReadArrayHeader() != 2)
        {
            throw new PayloadSerializationException("malformed closure description.");
        }

        Type type = types.Load(reader.ReadString()!);
        int count = reader.ReadArrayHeader();
        var slots = new FieldSlot[count];
        var nested = new ClosureShape?[count];
        for (int i = 0; i < count; i++)
        {
            reader.ReadArrayHeader();
            string name = reader.ReadString()!;
            FieldInfo field = type.GetField(name, InstanceFields)
                ?? throw new PayloadSerializationException($"the closure type {type} has no field '{name}' here (different builds on each side?).");
            slots[i] = FieldSlot.Create(field);
            nested[i] = reader.TryReadNil() ? null : ReadDescription(ref reader, types);
        }

        return new ClosureShape(type, slots, nested);
    }

    public void WriteValue(ref MessagePackWriter writer, object closure, MessagePackSerializerOptions options)
    {
        writer.WriteArrayHeader(_slots.Length);
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_nested[i] is { } nested)
            {
                object? inner = _slots[i].GetBoxed(closure);
                if (inner is null)
                {
                    writer.WriteNil();
                }
                else
                {
                    nested.WriteValue(ref writer, inner, options);
                }
            }
            else
            {
                _slots[i].Write(closure, ref writer, options);
            }
        }
    }

    public object ReadValue(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.ReadArrayHeader() != _slots.Length)
        {
            throw new PayloadSerializationException($"the captured values do not match the closure {Type}.");
        }

        object closure = RuntimeHelpers.GetUninitializedObject(Type);
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_nested[i] is { } nested)
            {
                _slots[i].SetBoxed(closure, reader.TryReadNil() ? null : nested.ReadValue(ref reader, options));
            }
            else
            {
                _slots[i].Read(closure, ref reader, options);
            }
        }

        return closure;
    }
}
