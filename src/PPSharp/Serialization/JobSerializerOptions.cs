using MessagePack;

namespace PPSharp.Serialization;

/// <summary>
/// MessagePack options for everything a job carries: <see cref="JobResolver"/> plus the <see cref="TypeLoader"/> that
/// resolves type names found in a payload (polymorphic values, closures).
/// </summary>
internal sealed class JobSerializerOptions : MessagePackSerializerOptions
{
    public static readonly JobSerializerOptions Local = new(TypeLoader.Default);

    public JobSerializerOptions(TypeLoader types)
        : base(JobResolver.Instance)
    {
        Types = types;
    }

    private JobSerializerOptions(JobSerializerOptions copyFrom)
        : base(copyFrom)
    {
        Types = copyFrom.Types;
    }

    public TypeLoader Types { get; }

    protected override MessagePackSerializerOptions Clone() => new JobSerializerOptions(this);

    public static TypeLoader TypesOf(MessagePackSerializerOptions options) =>
        (options as JobSerializerOptions)?.Types ?? TypeLoader.Default;
}
