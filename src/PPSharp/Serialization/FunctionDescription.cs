using System.Buffers;
using MessagePack;

namespace PPSharp.Serialization;

/// <summary>One assembly a function's code needs, named by content: a node asks for those it lacks and caches them.</summary>
/// <param name="Name">The assembly's full name.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the assembly file.</param>
/// <param name="Path">Where the assembly file is on the machine that reads the description; null where it need not be loaded from a file.</param>
internal sealed record CodeAssembly(string Name, string Sha256, string? Path);

/// <summary>A source function's text, as it travels: compiled where it runs.</summary>
internal sealed record SourceText(string Source, string[] Depfuncs, string[] Modules, string? Entry);

/// <summary>
/// Everything a worker needs to load a function: the DefineFunction payload, a MessagePack array of 10:
/// <c>[id, delegate type, declaring type, method token, [generic arguments], target kind, target type or nil,
/// closure description or nil, [[assembly name, sha256, path or nil], ...], source or nil]</c>, where a source is
/// <c>[text, [depfuncs], [modules], entry or nil]</c> (and the declaring type and token are then unused).
/// </summary>
/// <remarks>
/// The client writes it; a node rewrites the id (its own numbering) and the assembly paths (its cache) before passing
/// it to its workers; a worker with paths loads those assemblies into a load context of their own.
/// </remarks>
internal sealed record FunctionDescription(
    int Id,
    string DelegateType,
    string DeclaringType,
    int MethodToken,
    string[] GenericArguments,
    TargetKind Kind,
    string? TargetType,
    ReadOnlyMemory<byte> Closure,
    CodeAssembly[] Code,
    SourceText? Source = null)
{
    public byte[] ToPayload()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(10);
        writer.Write(Id);
        writer.Write(DelegateType);
        writer.Write(DeclaringType);
        writer.Write(MethodToken);
        writer.WriteArrayHeader(GenericArguments.Length);
        foreach (string argument in GenericArguments)
        {
            writer.Write(argument);
        }

        writer.Write((byte)Kind);
        writer.Write(TargetType);
        if (Closure.IsEmpty)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteRaw(Closure.Span);
        }

        writer.WriteArrayHeader(Code.Length);
        foreach (CodeAssembly assembly in Code)
        {
            writer.WriteArrayHeader(3);
            writer.Write(assembly.Name);
            writer.Write(assembly.Sha256);
            writer.Write(assembly.Path);
        }

        if (Source is null)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteArrayHeader(4);
            writer.Write(Source.Source);
            WriteStrings(ref writer, Source.Depfuncs);
            WriteStrings(ref writer, Source.Modules);
            writer.Write(Source.Entry);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="PPSharp.Protocol.ProtocolException">The payload is not a function description.</exception>
    public static FunctionDescription Read(ReadOnlySequence<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            if (reader.ReadArrayHeader() != 10)
            {
                throw new PPSharp.Protocol.ProtocolException("A DefineFunction payload must be an array of 10.");
            }

            int id = reader.ReadInt32();
            string delegateType = Required(reader.ReadString());
            string declaringType = Required(reader.ReadString());
            int token = reader.ReadInt32();
            var generic = new string[reader.ReadArrayHeader()];
            for (int i = 0; i < generic.Length; i++)
            {
                generic[i] = Required(reader.ReadString());
            }

            var kind = (TargetKind)reader.ReadByte();
            string? targetType = reader.ReadString();
            ReadOnlyMemory<byte> closure = reader.TryReadNil() ? default : reader.ReadRaw().ToArray();
            var code = new CodeAssembly[reader.ReadArrayHeader()];
            for (int i = 0; i < code.Length; i++)
            {
                reader.ReadArrayHeader();
                code[i] = new CodeAssembly(Required(reader.ReadString()), Required(reader.ReadString()), reader.ReadString());
            }

            SourceText? source = null;
            if (!reader.TryReadNil())
            {
                reader.ReadArrayHeader();
                source = new SourceText(Required(reader.ReadString()), ReadStrings(ref reader), ReadStrings(ref reader), reader.ReadString());
            }

            return new FunctionDescription(id, delegateType, declaringType, token, generic, kind, targetType, closure, code, source);
        }
        catch (Exception ex) when (PPSharp.Protocol.Malformed.Is(ex))
        {
            throw new PPSharp.Protocol.ProtocolException($"A malformed DefineFunction payload: {ex.Message}");
        }
    }

    private static void WriteStrings(ref MessagePackWriter writer, string[] values)
    {
        writer.WriteArrayHeader(values.Length);
        foreach (string value in values)
        {
            writer.Write(value);
        }
    }

    private static string[] ReadStrings(ref MessagePackReader reader)
    {
        var values = new string[reader.ReadArrayHeader()];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Required(reader.ReadString());
        }

        return values;
    }

    private static string Required(string? value) =>
        value ?? throw new PPSharp.Protocol.ProtocolException("A DefineFunction payload has a missing name.");
}
