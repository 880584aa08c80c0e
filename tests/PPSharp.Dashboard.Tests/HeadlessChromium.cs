using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace PPSharp.Dashboard.Tests;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver with Selenium. Disposing it quits the browser and
/// stops the driver; a driver process still there after that is killed by its pid.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    private readonly ChromeDriverService _service;
    private readonly string _profile = Directory.CreateTempSubdirectory("ppsharp-chromium-").FullName;

    public HeadlessChromium()
    {
        _service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromiumFactAttribute.Driver)!, Path.GetFileName(ChromiumFactAttribute.Driver));
        _service.SuppressInitialDiagnosticInformation = true;
        _service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser };
        // The flags that keep Chromium quiet on a machine with a closed network, and a fresh profile.
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1050", $"--user-data-dir={_profile}");
        try
        {
            Driver = new ChromeDriver(_service, options, Bounds.Heavy);
        }
        catch
        {
            StopDriverProcess();
            throw;
        }
    }

    public ChromeDriver Driver { get; }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds on the page, polling the DOM.</summary>
    public void WaitUntil(Func<IWebDriver, bool> condition, string what)
    {
        var wait = new OpenQA.Selenium.Support.UI.DefaultWait<IWebDriver>(Driver) { Timeout = Bounds.Hang, PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            wait.Until(condition);
        }
        catch (WebDriverTimeoutException)
        {
            Assert.Fail($"The page did not show {what} within {Bounds.Hang}. Page text:\n{Driver.FindElement(By.TagName("body")).Text}");
        }
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            StopDriverProcess();
            Directory.Delete(_profile, recursive: true);
        }
    }

    private void StopDriverProcess()
    {
        int pid = _service.ProcessId;
        _service.Dispose();
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(Bounds.Hang);
        }
        catch (ArgumentException)
        {
            // Already gone, as it should be.
        }
        catch (InvalidOperationException)
        {
        }
    }
}
