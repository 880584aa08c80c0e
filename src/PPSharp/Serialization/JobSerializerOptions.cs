using MessagePack;

namespace PPSharp.Serialization;

/// <summary>
/// MessagePack options for everything a job carries: <see cref="JobResolver"/> plus the <see cref="TypeLoader"/> that
/// resolves type names found in a payload (polymorphic values, closures).
/// </summary>
internal sealed class JobSerializerOptions : MessagePackSerializerOptions
{
    /// <summary>No depth limit on reading: <see cref="DeepStack"/> keeps deep values from overflowing the stack instead.</summary>
    /// <remarks>
    /// Built from the resolver, not from <see cref="MessagePackSerializerOptions.Standard"/>: touching that initializes
    /// MessagePack's standard resolver chain, whose union resolver compiles a regular expression with Reflection.Emit:
    /// 15 to 30 ms of every worker's and every caller's first job on this project's machine, for resolvers PPSharp
    /// never asks.
    /// </remarks>
    // Declared before Local, which is built from it.
    private static readonly MessagePackSerializerOptions Template =
        new MessagePackSerializerOptions(JobResolver.Instance).WithSecurity(MessagePackSecurity.TrustedData.WithMaximumObjectGraphDepth(int.MaxValue));

    public static readonly JobSerializerOptions Local = new(TypeLoader.Default);

    public JobSerializerOptions(TypeLoader types)
        : base(Template)
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
