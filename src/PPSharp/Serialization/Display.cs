using System.Text;

namespace PPSharp.Serialization;

/// <summary>Human-readable names for error messages: C#-style type names and the real names of captured variables.</summary>
internal static class Display
{
    public static string TypeName(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var sb = new StringBuilder();
        string name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        sb.Append(tick < 0 ? name : name[..tick]).Append('<');
        sb.AppendJoin(", ", type.GetGenericArguments().Select(TypeName));
        return sb.Append('>').ToString();
    }

    /// <summary>
    /// The name a user wrote for a field of a compiler-generated closure class: locals keep their names; the captured
    /// <c>this</c> is <c>&lt;&gt;4__this</c> and enclosing scopes are <c>CS$&lt;&gt;8__locals1</c>.
    /// </summary>
    public static string FieldName(System.Reflection.FieldInfo field)
    {
        string name = field.Name;
        if (name.EndsWith("__this", StringComparison.Ordinal))
        {
            return "this";
        }

        if (name.StartsWith("CS$<>8__locals", StringComparison.Ordinal))
        {
            return "(enclosing scope)";
        }

        if (name.StartsWith('<'))
        {
            int end = name.IndexOf('>', StringComparison.Ordinal);
            if (end > 1)
            {
                return name[1..end]; // "<Name>k__BackingField" is the property Name
            }
        }

        return name;
    }

    public static bool IsCompilerGenerated(Type type) =>
        type.Name.StartsWith('<') && type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false);
}
