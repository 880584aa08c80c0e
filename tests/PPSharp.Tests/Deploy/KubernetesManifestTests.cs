using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace PPSharp.Tests.Deploy;

/// <summary>
/// The Kubernetes manifests in docs/deploy.md and the image they run (deploy/ppserver.Dockerfile), checked without a
/// cluster so they cannot rot: each YAML block parses strictly into the Kubernetes API's own types (the official C#
/// client's models, so an unknown or misspelt field fails), and the pieces agree with each other and with the image.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly Dictionary<string, Type> Kinds = new(StringComparer.Ordinal)
    {
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/Service"] = typeof(V1Service),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["autoscaling/v2/HorizontalPodAutoscaler"] = typeof(V2HorizontalPodAutoscaler),
    };

    private static readonly Lazy<List<object>> Objects = new(() =>
        [.. YamlBlocks(File.ReadAllText(RepositoryFile("docs", "deploy.md"))).SelectMany(block => KubernetesYaml.LoadAllFromString(block, Kinds, strict: true))]);

    [GeneratedRegex(@"^```yaml\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [Fact]
    public void EveryYamlBlock_ParsesStrictly_IntoKubernetesTypes()
    {
        Assert.Equal(["Deployment", "HorizontalPodAutoscaler", "Secret", "Service"],
            Objects.Value.Select(o => ((IKubernetesObject)o).Kind).Order(StringComparer.Ordinal));
        Assert.All(Objects.Value, o => Assert.False(string.IsNullOrEmpty(((IMetadata<V1ObjectMeta>)o).Metadata?.Name)));
    }

    [Fact]
    public void StrictParsing_RejectsAMisspeltField()
    {
        const string misspelt = "apiVersion: v1\nkind: Service\nmetadata:\n  name: ppserver\nspec:\n  clusterIp: None\n";
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misspelt, Kinds, strict: true));
    }

    [Fact]
    public void Deployment_RunsTheImageAsNonRoot_WithTheSecretFromTheSecret_ProbesOnItsPort_AndWorkersMatchingItsCpus()
    {
        V1Deployment deployment = Single<V1Deployment>();
        V1Secret secret = Single<V1Secret>();
        V1PodSpec pod = deployment.Spec.Template.Spec;
        V1Container container = Assert.Single(pod.Containers);

        Assert.Equal(deployment.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.NotEqual(0, pod.SecurityContext.RunAsUser);

        V1EnvVar secretVariable = Assert.Single(container.Env, e => e.Name == "PPSHARP_SECRET");
        Assert.Equal(secret.Metadata.Name, secretVariable.ValueFrom.SecretKeyRef.Name);
        Assert.Contains(secretVariable.ValueFrom.SecretKeyRef.Key, secret.StringData.Keys);
        Assert.DoesNotContain(container.Args, a => a is "-s" or "--secret"); // never on a command line

        int port = Assert.Single(container.Ports).ContainerPort;
        Assert.Equal(port.ToString(), container.LivenessProbe.TcpSocket.Port.Value);
        Assert.Equal(port.ToString(), ImageEntryPointArgument("-p"));
        Assert.Equal(["cat", ImageEntryPointArgument("-o")], container.ReadinessProbe.Exec.Command); // ready once the address file exists

        string workers = container.Args[container.Args.IndexOf("-w") + 1];
        Assert.Equal(workers, container.Resources.Requests["cpu"].ToString());

        V1VolumeMount cache = Assert.Single(container.VolumeMounts);
        Assert.Equal(ImageEnvironment("XDG_CACHE_HOME"), cache.MountPath);
        Assert.Contains(pod.Volumes, v => v.Name == cache.Name);
    }

    [Fact]
    public void Service_IsHeadless_SelectsTheDeploymentsPods_OnTheNodesPort()
    {
        V1Service service = Single<V1Service>();
        V1Deployment deployment = Single<V1Deployment>();

        Assert.Equal("None", service.Spec.ClusterIP);
        Assert.Equal(deployment.Spec.Template.Metadata.Labels, service.Spec.Selector);
        V1ServicePort port = Assert.Single(service.Spec.Ports);
        Assert.Equal(Assert.Single(Assert.Single(deployment.Spec.Template.Spec.Containers).Ports).ContainerPort, port.Port);
        Assert.Contains($"dns:{service.Metadata.Name}:{port.Port}", File.ReadAllText(RepositoryFile("docs", "deploy.md")));
    }

    [Fact]
    public void Autoscaler_ScalesTheDeployment()
    {
        V2HorizontalPodAutoscaler autoscaler = Single<V2HorizontalPodAutoscaler>();
        V1Deployment deployment = Single<V1Deployment>();

        Assert.Equal(("apps/v1", "Deployment", deployment.Metadata.Name),
            (autoscaler.Spec.ScaleTargetRef.ApiVersion, autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.True(autoscaler.Spec.MinReplicas >= 1 && autoscaler.Spec.MaxReplicas >= autoscaler.Spec.MinReplicas);
    }

    [Fact]
    public void Image_IsTheRuntimeImage_RunsPpserverAsNonRoot_WithItsCacheOnAVolume()
    {
        string[] lines = File.ReadAllLines(RepositoryFile("deploy", "ppserver.Dockerfile"));
        string[] final = [.. lines.SkipWhile(l => !l.StartsWith("FROM mcr.microsoft.com/dotnet/runtime:", StringComparison.Ordinal))];

        Assert.NotEmpty(final);
        string user = Assert.Single(final, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain(user["USER ".Length..].Trim(), new[] { "root", "0" });
        Assert.Contains($"VOLUME {ImageEnvironment("XDG_CACHE_HOME")}", final);
        Assert.Contains("\"/app/ppserver.dll\"", Assert.Single(final, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
    }

    private static T Single<T>() => Assert.Single(Objects.Value.OfType<T>());

    private static IEnumerable<string> YamlBlocks(string markdown) =>
        YamlBlock().Matches(markdown.Replace("\r\n", "\n")).Select(m => m.Groups["body"].Value);

    /// <summary>The value after <paramref name="option"/> in the image's ENTRYPOINT.</summary>
    private static string ImageEntryPointArgument(string option)
    {
        string entryPoint = File.ReadAllLines(RepositoryFile("deploy", "ppserver.Dockerfile")).Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
        string[] words = [.. Regex.Matches(entryPoint, "\"([^\"]*)\"").Select(m => m.Groups[1].Value)];
        return words[Array.IndexOf(words, option) + 1];
    }

    private static string ImageEnvironment(string name)
    {
        string line = File.ReadAllLines(RepositoryFile("deploy", "ppserver.Dockerfile")).Single(l => l.StartsWith($"ENV {name}=", StringComparison.Ordinal));
        return line[$"ENV {name}=".Length..].Trim();
    }

    /// <summary>A file of the repository, found by walking up from the test's output folder to PPSharp.slnx.</summary>
    private static string RepositoryFile(params string[] parts)
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PPSharp.slnx")))
            {
                return Path.Combine([directory.FullName, .. parts]);
            }
        }

        throw new FileNotFoundException("PPSharp.slnx not found above " + AppContext.BaseDirectory);
    }
}
