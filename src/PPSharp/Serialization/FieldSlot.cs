using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using MessagePack;

namespace PPSharp.Serialization;

/// <summary>
/// Reads and writes one instance field of an object, whatever its accessibility (readonly fields included), through
/// small methods emitted once per field, and (de)serializes its value with the formatter of the field's declared type.
/// </summary>
internal abstract class FieldSlot(FieldInfo field)
{
    public FieldInfo Field { get; } = field;

    public static FieldSlot Create(FieldInfo field) =>
        (FieldSlot)Activator.CreateInstance(typeof(FieldSlot<>).MakeGenericType(field.FieldType), field)!;

    /// <summary>Every instance field of <paramref name="type"/> and its bases, base fields first, in declaration order.</summary>
    public static FieldSlot[] ForType(Type type)
    {
        var chain = new List<Type>();
        for (Type? t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            chain.Add(t);
        }

        chain.Reverse();
        const BindingFlags Declared = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return chain
            .SelectMany(t => t.GetFields(Declared).OrderBy(f => f.MetadataToken))
            .Where(f => !f.IsDefined(typeof(NonSerializedAttribute), inherit: false))
            .Select(Create)
            .ToArray();
    }

    public abstract void Write(object owner, ref MessagePackWriter writer, MessagePackSerializerOptions options);

    public abstract void Read(object owner, ref MessagePackReader reader, MessagePackSerializerOptions options);

    public object? GetBoxed(object owner) => Field.GetValue(owner);

    public void SetBoxed(object owner, object? value) => Field.SetValue(owner, value);

    /// <summary>Says which field failed, in the user's words, as a serialization error unwinds.</summary>
    protected PayloadSerializationException Locate(Exception ex)
    {
        PayloadSerializationException located = PayloadSerializationException.Find(ex)
            ?? new PayloadSerializationException(ex.Message, ex);
        Type owner = Field.DeclaringType!;
        return located.At(Display.IsCompilerGenerated(owner)
            ? $"captured variable '{Display.FieldName(Field)}' ({Display.TypeName(Field.FieldType)})"
            : $"field '{Display.FieldName(Field)}' ({Display.TypeName(Field.FieldType)}) of {Display.TypeName(owner)}");
    }
}

internal sealed class FieldSlot<TField> : FieldSlot
{
    private readonly Func<object, TField> _get;
    private readonly Action<object, TField> _set;

    public FieldSlot(FieldInfo field)
        : base(field)
    {
        // Without dynamic code (native-AOT settings, the default of file-based programs) reflection does the same, slower.
        if (RuntimeFeature.IsDynamicCodeSupported)
        {
            _get = EmitGetter(field);
            _set = EmitSetter(field);
        }
        else
        {
            _get = owner => (TField)field.GetValue(owner)!;
            _set = (owner, value) => field.SetValue(owner, value);
        }
    }

    public override void Write(object owner, ref MessagePackWriter writer, MessagePackSerializerOptions options)
    {
        try
        {
            options.Resolver.GetFormatterWithVerify<TField>().Serialize(ref writer, _get(owner), options);
        }
        catch (Exception ex) when (ex is PayloadSerializationException or MessagePackSerializationException or NotSupportedException or InvalidOperationException && !PayloadSerializationException.IsSaturated(ex))
        {
            throw Locate(ex);
        }
    }

    public override void Read(object owner, ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        TField value;
        try
        {
            value = options.Resolver.GetFormatterWithVerify<TField>().Deserialize(ref reader, options);
        }
        catch (Exception ex) when (ex is PayloadSerializationException or MessagePackSerializationException or NotSupportedException or InvalidOperationException && !PayloadSerializationException.IsSaturated(ex))
        {
            throw Locate(ex);
        }

        _set(owner, value);
    }

    private static Func<object, TField> EmitGetter(FieldInfo field)
    {
        var method = new DynamicMethod($"get_{field.Name}", typeof(TField), [typeof(object)], field.Module, skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        EmitOwner(il, field.DeclaringType!);
        il.Emit(OpCodes.Ldfld, field);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, TField>>();
    }

    private static Action<object, TField> EmitSetter(FieldInfo field)
    {
        // stfld on a readonly field is allowed to code that skips visibility checks: that is how get-only
        // properties and record members, whose backing fields are readonly, are restored.
        var method = new DynamicMethod($"set_{field.Name}", null, [typeof(object), typeof(TField)], field.Module, skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        EmitOwner(il, field.DeclaringType!);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Stfld, field);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<object, TField>>();
    }

    /// <summary>Turns the object argument into the field's owner: a reference for classes, a pointer into the box for structs.</summary>
    private static void EmitOwner(ILGenerator il, Type owner) =>
        il.Emit(owner.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, owner);
}
