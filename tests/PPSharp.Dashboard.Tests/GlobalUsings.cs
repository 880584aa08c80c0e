global using System.Diagnostics;
global using PPSharp;
global using PPSharp.Tests.Support;
global using Xunit;
