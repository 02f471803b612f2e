package dev.weightlift.charts;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the repository the tests run in (Maven runs them with the module as working directory). */
final class RepoPaths {

  static final Path ROOT = findRoot();

  private RepoPaths() {}

  static Path testResource(String name) {
    try {
      var url = RepoPaths.class.getClassLoader().getResource(name);
      if (url == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(name, e);
    }
  }

  private static Path findRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("charts/weightlift")) && Files.exists(dir.resolve("pom.xml"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("repository root (with charts/weightlift) not found above " + Path.of("").toAbsolutePath());
  }
}
