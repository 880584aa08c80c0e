using OpenQA.Selenium;

namespace PPSharp.Dashboard.Tests;

/// <summary>The dashboard page in a real browser (headless Chromium), updated live by Server-Sent Events.</summary>
public sealed class DashboardBrowserTests
{
    /// <summary>Where the screenshot goes: the test output folder, kept as a test artifact.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard.png");

    private static string Text(IWebDriver driver, string id) => driver.FindElement(By.Id(id)).Text;

    [ChromiumFact]
    public async Task Page_ShowsWorkersJobCountsTaskBarsAndFailures_LiveWithoutReload()
    {
        using var server = new JobServer(2, secret: "browser-test-secret");
        await using JobServerDashboard dashboard = server.StartDashboard(port: 0);
        using var browser = new HeadlessChromium();
        browser.Driver.Navigate().GoToUrl(dashboard.Url);
        browser.WaitUntil(d => Text(d, "connection") == "live", "a live connection");

        // Jobs submitted after the page loaded: whatever the page shows of them came by Server-Sent Events.
        var jobs = new List<Job>();
        for (int round = 0; round < 3; round++)
        {
            jobs.AddRange(new[] { 120, 60, 200, 90 }.Select(ms => server.Submit(Jobs.Crunch, ms)));
            jobs.Add(server.Submit(Jobs.Ratio, round, round == 1 ? 0 : 2)); // one of the three divides by zero
        }

        await Task.WhenAll(jobs.Select(j => Task.WhenAny(j.AsTask()))).WaitAsync(Bounds.Heavy);
        int failed = jobs.Count(j => j.IsFailed);
        Assert.Equal(1, failed);

        browser.WaitUntil(d => Text(d, "jobs-completed") == $"{jobs.Count - failed}" && Text(d, "jobs-failed") == $"{failed}", "the job counts");
        browser.WaitUntil(d => Text(d, "worker-count") == "2" && d.FindElements(By.CssSelector("#workers tbody tr.worker")).Count == 2, "two workers");
        Assert.Equal($"{jobs.Count}", Text(browser.Driver, "jobs-submitted"));
        browser.WaitUntil(d => d.FindElements(By.CssSelector("#task-stream rect.task")).Count == jobs.Count, "a bar per job in the task stream");
        Assert.Single(browser.Driver.FindElements(By.CssSelector("#task-stream rect.task.failed")));
        IWebElement failure = browser.Driver.FindElement(By.CssSelector("#failures details.failure summary"));
        Assert.Contains("DivideByZeroException", failure.Text, StringComparison.Ordinal);
        Assert.Contains("Job execution statistics:", Text(browser.Driver, "stats"), StringComparison.Ordinal);

        // Six jobs of a function never seen: each worker runs one (held at the gate, its start acknowledged) and holds
        // one more sent ahead; two wait in the queue. The page's counts are GetJobs()' and each worker shows its job.
        using var gate = new JobGate();
        Job<int>[] held = [.. Enumerable.Range(0, 6).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port))];
        await gate.NextArrivalAsync();
        await gate.NextArrivalAsync();
        browser.WaitUntil(
            d => Text(d, "queue-length") == "2" && Text(d, "jobs-sent") == "2" && Text(d, "jobs-running") == "2",
            "2 queued, 2 sent ahead, 2 running");
        IReadOnlyList<JobInfo> listed = server.GetJobs();
        Assert.Equal(2, listed.Count(j => j.State == JobState.Queued));
        Assert.Equal(2, listed.Count(j => j.State == JobState.Sent));
        Assert.Equal(2, listed.Count(j => j.State == JobState.Running));
        browser.WaitUntil(
            d => d.FindElements(By.CssSelector("#workers .state.busy")).Count == 2
                && d.FindElements(By.CssSelector("#workers td.running")).All(c => c.Text.Contains("ArriveAndWait", StringComparison.Ordinal))
                && d.FindElements(By.CssSelector("#workers tr.worker td:nth-child(4)")).All(c => c.Text == "1"),
            "both workers busy with their jobs, each with one sent ahead");
        string[] runningIds = [.. listed.Where(j => j.State == JobState.Running).Select(j => $"#{j.Id} ")];
        browser.WaitUntil( // read inside a wait: the live page may replace a cell while it is read
            d =>
            {
                string runningCells = string.Join(" | ", d.FindElements(By.CssSelector("#workers td.running")).Select(c => c.Text));
                return runningIds.All(id => runningCells.Contains(id, StringComparison.Ordinal));
            },
            $"the running jobs {string.Join(", ", runningIds)} on their workers");

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        browser.Driver.GetScreenshot().SaveAsFile(ScreenshotPath);
        Assert.True(new FileInfo(ScreenshotPath).Length > 10_000, "the screenshot is empty");
        gate.Open();
        await held.AllWithin();

        // Everything has finished: nothing queued, sent or running, on the page as in GetJobs().
        browser.WaitUntil(
            d => Text(d, "jobs-completed") == $"{jobs.Count - failed + held.Length}" && Text(d, "queue-length") == "0" && Text(d, "jobs-sent") == "0" && Text(d, "jobs-running") == "0",
            "the final counts");
        Assert.Empty(server.GetJobs());
        Assert.Equal($"{jobs.Count + held.Length}", Text(browser.Driver, "jobs-submitted"));
    }
}
