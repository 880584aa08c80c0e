using System.Net;
using Microsoft.Extensions.Logging;
using PPSharp.Remote;

namespace PPSharp.Tests.Security;

/// <summary>The node's slowing-down of addresses that fail the handshake, and the rate limit on their log lines.</summary>
public sealed class AuthGuardUnitTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.9");
    private static readonly IPAddress Other = IPAddress.Parse("127.0.0.10");

    private static (AuthGuard Guard, CapturingLoggerProvider Log, ILoggerFactory Factory) NewGuard()
    {
        var log = new CapturingLoggerProvider();
        ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(log));
        return (new AuthGuard("secret", salt: null, factory.CreateLogger("test")), log, factory);
    }

    [Fact]
    public void FailuresFromOneAddress_DelayItsNextAnswersMoreAndMore_UpToTheMaximum_AndNotOtherAddresses()
    {
        (AuthGuard guard, _, ILoggerFactory factory) = NewGuard();
        using (factory)
        using (guard)
        {
            Assert.Equal(TimeSpan.Zero, guard.DelayBeforeAnswering(Attacker));
            var delays = new List<TimeSpan>();
            for (int i = 0; i < 10; i++)
            {
                guard.Failed(Attacker, "127.0.0.9:1", "authentication failed");
                delays.Add(guard.DelayBeforeAnswering(Attacker));
            }

            // Each reserved slot comes after the one before: the waits grow, and answers to one address are spaced.
            Assert.True(delays.Zip(delays.Skip(1)).All(pair => pair.Second > pair.First), string.Join(", ", delays));
            Assert.True(delays[0] >= AuthGuard.FirstDelay * 0.9);
            Assert.Equal(TimeSpan.Zero, guard.DelayBeforeAnswering(Other));

            guard.Succeeded(Attacker);
            Assert.Equal(TimeSpan.Zero, guard.DelayBeforeAnswering(Attacker));
        }
    }

    [Fact]
    public void ManyFailures_AreLoggedAsTheFirstLineAndOneSummary()
    {
        (AuthGuard guard, CapturingLoggerProvider log, ILoggerFactory factory) = NewGuard();
        using (factory)
        {
            for (int i = 0; i < 5_000; i++)
            {
                guard.Failed(i % 2 == 0 ? Attacker : Other, $"127.0.0.{9 + (i % 2)}:{i}", "authentication failed (wrong secret?)");
            }

            guard.Dispose(); // flushes the summary of the interval
        }

        string[] lines = [.. log.Entries.Select(e => e.Message)];
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("Authentication failed from 127.0.0.9:0", lines[0]);
        Assert.StartsWith("4999 more authentication failures from 2 addresses", lines[1]);
    }
}
