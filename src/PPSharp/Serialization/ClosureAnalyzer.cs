using System.Reflection;
using System.Reflection.Emit;

namespace PPSharp.Serialization;

/// <summary>
/// Finds which captured variables a lambda's own code reads, as Spark's ClosureCleaner does for Scala closures.
/// </summary>
/// <remarks>
/// C# gives every scope one compiler-generated closure object shared by all lambdas of that scope, so a lambda that
/// reads only <c>k</c> may sit on an object that also holds the <c>JobServer</c> or a socket used by another lambda.
/// Shipping only the fields the job's code touches (walking its IL, the lambdas and local functions it calls, and
/// the state machines of async lambdas) makes natural code just work. When the IL cannot be read, every field is shipped.
/// </remarks>
internal static class ClosureAnalyzer
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The (module, metadata token) of every field the code reachable from <paramref name="entry"/> reads or writes, or null if unknown.</summary>
    public static HashSet<(Module, int)>? AccessedFields(MethodInfo entry)
    {
        var fields = new HashSet<(Module, int)>();
        var visited = new HashSet<MethodBase>();
        var pending = new Stack<MethodBase>();
        pending.Push(entry);
        try
        {
            while (pending.Count > 0)
            {
                MethodBase method = pending.Pop();
                if (!visited.Add(method))
                {
                    continue;
                }

                Scan(method, fields, pending);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or BadImageFormatException or InvalidOperationException or NotSupportedException or KeyNotFoundException)
        {
            return null;
        }

        return fields;
    }

    private static void Scan(MethodBase method, HashSet<(Module, int)> fields, Stack<MethodBase> pending)
    {
        // An async lambda (or iterator) keeps its body in its state machine's MoveNext; that type carries no
        // [CompilerGenerated] when nested in a closure class, so follow the attribute on the method itself.
        if (method.GetCustomAttribute<System.Runtime.CompilerServices.StateMachineAttribute>() is { StateMachineType: { } machine })
        {
            PushMoveNext(machine, pending);
        }

        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            return;
        }

        Module module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[i++]);
            }

            OpCode op = OpCodesByValue[value];
            int operandStart = i;
            i += OperandSize(op, il, i);
            switch (op.OperandType)
            {
                case OperandType.InlineField:
                    FieldInfo? field = module.ResolveField(BitConverter.ToInt32(il, operandStart), typeArgs, methodArgs);
                    if (field is not null)
                    {
                        fields.Add((field.Module, field.MetadataToken));
                        if (field.DeclaringType is { } owner && owner.Name.StartsWith('<'))
                        {
                            PushMoveNext(owner, pending); // a state machine whose fields this code sets
                        }
                    }

                    break;
                case OperandType.InlineMethod:
                    MethodBase? callee = module.ResolveMethod(BitConverter.ToInt32(il, operandStart), typeArgs, methodArgs);
                    if (callee is not null && IsClosureCode(callee))
                    {
                        pending.Push(callee);
                    }

                    break;
            }
        }
    }

    private static void PushMoveNext(Type machine, Stack<MethodBase> pending)
    {
        foreach (MethodInfo moveNext in machine.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
        {
            if (moveNext.Name.EndsWith("MoveNext", StringComparison.Ordinal))
            {
                pending.Push(moveNext);
            }
        }
    }

    /// <summary>Lambdas, local functions and closure classes: code the compiler wrote for the user's function.</summary>
    private static bool IsClosureCode(MethodBase method) =>
        method.Name.StartsWith('<') || (method.DeclaringType is { } t && Display.IsCompilerGenerated(t));

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };
}
