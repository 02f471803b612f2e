package dev.weightlift.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The images cannot be built here (no Docker), so their inputs are: what each Dockerfile copies out of
 * the Maven build exists after `package`, and the classes it starts load from exactly that classpath.
 */
class ContainerBuildTest {

  private static final String BUILD_STAGE_ROOT = "/src/";

  @ParameterizedTest(name = "{0}")
  @CsvSource({"operator, dev.weightlift.operator.OperatorMain", "agent, dev.weightlift.agent.AgentMain"})
  void entrypointStartsTheModulesMainClassFromAppLib(String module, String mainClass) {
    List<String> entrypoint = dockerfile(module).finalStage().entrypoint();

    assertEquals("java", entrypoint.get(0));
    int classpath = entrypoint.indexOf("-cp") + 1;
    assertTrue(classpath > 0, "no -cp in " + entrypoint);
    assertEquals("/app/lib/*", entrypoint.get(classpath));
    assertEquals(mainClass, entrypoint.get(entrypoint.size() - 1));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"operator", "agent"})
  void buildStagePackagesTheModuleAndItsRuntimeClasspath(String module) {
    Dockerfile dockerfile = dockerfile(module);

    assertTrue(dockerfile.all("RUN").stream().anyMatch(run -> run.contains("mvn ") && run.contains("-pl " + module + " -am package")),
        module + "/Dockerfile does not package its module");
    List<Dockerfile.Copy> fromBuild = dockerfile.finalStage().copies().stream().filter(c -> "build".equals(c.from())).toList();
    assertEquals(2, fromBuild.size(), "the runtime classpath and the module's jar: " + fromBuild);
    for (Dockerfile.Copy copy : fromBuild) {
      assertEquals("/app/lib/", copy.target());
      assertTrue(copy.source().startsWith(BUILD_STAGE_ROOT), copy.source());
      List<Path> matches = matches(copy.source().substring(BUILD_STAGE_ROOT.length()));
      assertFalse(matches.isEmpty(), copy.source() + " does not exist after mvn package");
      if (copy.source().endsWith(".jar")) {
        assertEquals(1, matches.size(), copy.source() + " must match exactly one jar: " + matches);
      } else {
        assertTrue(jars(matches.get(0)).size() > 1, copy.source() + " holds no runtime jars");
      }
    }
  }

  @Test
  void agentImageCarriesUcxAndTheCudaRuntime() {
    Dockerfile agent = dockerfile("agent");

    assertTrue(agent.all("ARG").stream().anyMatch(arg -> arg.startsWith("CUDA_IMAGE=nvidia/cuda:") && arg.contains("-runtime-")));
    assertTrue(agent.finalStage().all("FROM").get(0).startsWith("${CUDA_IMAGE}"));
    assertTrue(agent.all("RUN").stream().anyMatch(run -> run.contains("libucx0")));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"operator", "agent"})
  void imagesRunAsANonRootUser(String module) {
    List<String> users = dockerfile(module).finalStage().all("USER");

    assertEquals(1, users.size());
    String uid = users.get(0).split(":")[0];
    assertNotEquals("0", uid);
    assertNotEquals("root", uid);
  }

  @Test
  void contextCopiesExistAndAreNotIgnored() throws IOException {
    List<String> ignored = Files.readAllLines(RepoPaths.ROOT.resolve(".dockerignore")).stream()
        .filter(line -> !line.isBlank() && !line.startsWith("#")).toList();

    assertTrue(ignored.contains("**/target"), "build outputs of the host must not enter the context");
    assertTrue(ignored.contains(".git"));
    for (String module : List.of("operator", "agent")) {
      for (Dockerfile.Copy copy : dockerfile(module).copies()) {
        if (copy.from() != null || copy.source().equals(".")) {
          continue;
        }
        assertFalse(ignored.stream().anyMatch(pattern -> copy.source().startsWith(pattern)),
            copy.source() + " is excluded by .dockerignore");
        assumeTrue(Files.exists(RepoPaths.ROOT.resolve(copy.source())),
            copy.source() + " (the engine-side Python package) is not on this branch yet");
      }
    }
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource({
      "operator, dev.weightlift.operator.OperatorMain",
      "agent, dev.weightlift.agent.AgentMain",
      "operator, dev.weightlift.operator.tools.CurveKeySecretTool",
      "operator, dev.weightlift.protocol.CurveKeyTool",
  })
  void startedClassesLoadFromTheImageClasspath(String module, String className) throws IOException {
    assumeTrue(sourceExists(className), className + " is not on this branch yet");

    assertMainLoadsFromTheImage(module, className);
  }

  @Test
  void keyJobStartsAClassOfTheOperatorImage() throws IOException {
    JsonNode job = RenderedChart.renderWithHooks(values -> {}).get("Job", RenderedChart.RELEASE + "-weightlift-curve-keygen");
    List<String> command = DefaultValuesTest.strings(RenderedChart.container(job, "keygen").path("command"));
    List<String> entrypoint = dockerfile("operator").finalStage().entrypoint();

    assertEquals(entrypoint.subList(0, 3), command.subList(0, 3));
    assertMainLoadsFromTheImage("operator", command.get(3));
  }

  private static void assertMainLoadsFromTheImage(String module, String className) throws IOException {
    try (URLClassLoader image = imageClasspath(module)) {
      Class<?> started = Class.forName(className, false, image);
      assertTrue(Stream.of(started.getMethods()).anyMatch(m -> m.getName().equals("main")),
          className + " has no main method");
    } catch (ClassNotFoundException e) {
      throw new AssertionError(className + " is not in the " + module + " image's /app/lib", e);
    }
  }

  private static Dockerfile dockerfile(String module) {
    return Dockerfile.read(RepoPaths.ROOT.resolve(module).resolve("Dockerfile"));
  }

  private static List<Path> matches(String glob) {
    Path relative = Path.of(glob.endsWith("/") ? glob.substring(0, glob.length() - 1) : glob);
    Path directory = RepoPaths.ROOT.resolve(relative).getParent();
    var matcher = FileSystems.getDefault().getPathMatcher("glob:" + relative.getFileName());
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.filter(p -> matcher.matches(p.getFileName())).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<Path> jars(Path directory) {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.filter(p -> p.toString().endsWith(".jar")).toList();
    } catch (IOException e) {
      throw new AssertionError("cannot list " + directory, e);
    }
  }

  private static URLClassLoader imageClasspath(String module) throws MalformedURLException {
    Path target = RepoPaths.ROOT.resolve(module).resolve("target");
    List<URL> urls = new ArrayList<>();
    for (Path jar : jars(target.resolve("lib"))) {
      urls.add(jar.toUri().toURL());
    }
    for (Path jar : matches(module + "/target/weightlift-" + module + "-*.jar")) {
      urls.add(jar.toUri().toURL());
    }
    return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
  }

  private static boolean sourceExists(String className) throws IOException {
    String file = className.replace('.', '/') + ".java";
    try (Stream<Path> modules = Files.list(RepoPaths.ROOT)) {
      return modules.anyMatch(m -> Files.exists(m.resolve("src/main/java").resolve(file)));
    }
  }
}
