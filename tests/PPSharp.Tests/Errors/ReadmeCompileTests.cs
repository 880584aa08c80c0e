using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PPSharp.Tests.Errors;

/// <summary>README's complete C# programs (the blocks that start with <c>using PPSharp;</c>) compile, as written, without a warning.</summary>
public sealed partial class ReadmeCompileTests
{
    /// <summary>What an SDK project with implicit usings imports.</summary>
    private const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    private static string ReadmeText()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "PPSharp.slnx")))
            {
                return File.ReadAllText(candidate);
            }
        }

        throw new FileNotFoundException("README.md of the repository was not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void ReadmeProgramBlocks_CompileWithoutWarnings()
    {
        string[] programs = [.. CSharpBlock().Matches(ReadmeText()).Select(m => m.Groups[1].Value).Where(b => b.TrimStart().StartsWith("using PPSharp;", StringComparison.Ordinal))];
        Assert.True(programs.Length >= 2, $"expected the README's programs, found {programs.Length}");
        MetadataReference[] references = [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(JobServer).Assembly.Location)
            .Distinct()
            .Select(p => MetadataReference.CreateFromFile(p))];
        var parse = new CSharpParseOptions(LanguageVersion.Latest);

        foreach (string program in programs)
        {
            var compilation = CSharpCompilation.Create(
                "ReadmeProgram",
                [CSharpSyntaxTree.ParseText(program, parse), CSharpSyntaxTree.ParseText(ImplicitUsings, parse)],
                references,
                new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
            Diagnostic[] problems = [.. compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS8019")];
            Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems.Select(d => d.ToString())) + Environment.NewLine + program);
        }
    }
}
