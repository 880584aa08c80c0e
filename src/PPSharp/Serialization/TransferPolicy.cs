using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace PPSharp.Serialization;

/// <summary>
/// Decides which types cannot leave the process: their meaning is tied to this process (handles, threads, sockets,
/// code), so a copy in a worker would be wrong rather than merely slow. Refusing them up front gives the user a clear
/// error naming the field, instead of a worker that quietly gets a broken object.
/// </summary>
internal static class TransferPolicy
{
    private static readonly (Type Type, string Why)[] RefusedBases =
    [
        (typeof(Delegate), "delegates cannot be sent; submit the function itself, or call it inside the job"),
        (typeof(SafeHandle), "an operating-system handle means nothing in another process"),
        (typeof(CriticalHandle), "an operating-system handle means nothing in another process"),
        (typeof(Stream), "a stream is tied to this process"),
        (typeof(TextReader), "a reader is tied to this process"),
        (typeof(TextWriter), "a writer is tied to this process"),
        (typeof(Thread), "a thread is tied to this process"),
        (typeof(Task), "a task is tied to this process; await it before submitting, or return a value"),
        (typeof(WaitHandle), "a wait handle is tied to this process"),
        (typeof(System.Diagnostics.Process), "a process object is tied to this process"),
        (typeof(System.Reflection.MemberInfo), "reflection objects cannot be sent; send a type's name instead"),
        (typeof(System.Reflection.Assembly), "assemblies cannot be sent as values"),
        (typeof(JobServer), "a job server cannot be sent to its own workers"),
        (typeof(Job), "a job handle cannot be sent to a worker; send its result instead"),
    ];

    private static readonly string[] RefusedNamespaces =
    [
        "System.Threading",
        "System.Net.Sockets",
        "System.Net.Http",
        "System.Runtime.Loader",
        "System.Reflection",
        "Microsoft.Extensions.Logging",
    ];

    public static bool IsRefused(Type type, [NotNullWhen(true)] out string? reason)
    {
        if (type.IsPointer || type.IsByRef || type.IsByRefLike || type.IsFunctionPointer || type == typeof(IntPtr) || type == typeof(UIntPtr))
        {
            reason = "native pointers and handles mean nothing in another process";
            return true;
        }

        foreach ((Type refused, string why) in RefusedBases)
        {
            if (refused.IsAssignableFrom(type))
            {
                reason = why;
                return true;
            }
        }

        string? ns = type.Namespace;
        if (ns is not null && !type.IsEnum && !type.IsPrimitive)
        {
            foreach (string prefix in RefusedNamespaces)
            {
                if (ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal))
                {
                    reason = "it is tied to this process";
                    return true;
                }
            }
        }

        reason = null;
        return false;
    }
}
