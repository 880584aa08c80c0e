namespace PPSharp.Dashboard.Tests;

/// <summary>
/// A test that needs Debian's headless Chromium and its driver (packages <c>chromium</c> and <c>chromium-driver</c>,
/// which <c>.ci/run</c> installs when it can): skipped, saying so, where they are not installed.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Browser = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Browser) || !File.Exists(Driver))
        {
            Skip = $"Needs headless Chromium: {Browser} and {Driver} (Debian packages chromium and chromium-driver; .ci/run installs them when run as root). Not installed here.";
        }
    }
}
