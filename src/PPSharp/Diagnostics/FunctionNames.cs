using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Diagnostics;

/// <summary>
/// Readable names of functions for traces and the dashboard ("Program.SumPrimes", "lambda in Main"), read back from
/// a definition once and cached; only diagnostics ask, so jobs never pay for it.
/// </summary>
internal static class FunctionNames
{
    private static readonly ConditionalWeakTable<FunctionDefinition, string> Names = [];

    public static string Of(FunctionDefinition function) => Names.GetValue(function, static f => Describe(f));

    private static string Describe(FunctionDefinition function)
    {
        FunctionDescription description;
        try
        {
            description = FunctionDescription.Read(new ReadOnlySequence<byte>(function.Payload));
        }
        catch (Protocol.ProtocolException)
        {
            return $"function {function.Id}";
        }

        if (description.Source is { } source)
        {
            return source.Entry ?? "source function";
        }

        string typeName = description.DeclaringType.Split(',')[0];
        string shortType = typeName[(typeName.LastIndexOfAny(['.', '+']) + 1)..];
        try
        {
            MethodBase? method = Type.GetType(description.DeclaringType, throwOnError: false)?.Module.ResolveMethod(description.MethodToken);
            if (method is not null)
            {
                return Readable(method);
            }
        }
        catch (ArgumentException)
        {
        }

        return shortType;
    }

    /// <summary>"Type.Method", or for a lambda "lambda in Method" (the compiler names it &lt;Method&gt;b__0_1).</summary>
    private static string Readable(MethodBase method)
    {
        string name = method.Name;
        Type? type = method.DeclaringType;
        while (type is not null && Display.IsCompilerGenerated(type))
        {
            type = type.DeclaringType;
        }

        if (name.StartsWith('<'))
        {
            // A local function is <Outer>g__Name|0_0; a lambda is <Outer>b__0_1.
            int local = name.IndexOf(">g__", StringComparison.Ordinal);
            if (local > 0)
            {
                int start = local + 4;
                int bar = name.IndexOf('|', start);
                return bar > start ? name[start..bar] : name[start..];
            }

            int end = name.IndexOf('>', StringComparison.Ordinal);
            return $"lambda in {(end > 1 ? name[1..end] : "?")}";
        }

        return type is null ? name : $"{type.Name}.{name}";
    }
}
