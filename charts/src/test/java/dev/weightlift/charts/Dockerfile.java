package dev.weightlift.charts;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The instructions of a Dockerfile that the image tests check (continuation lines joined). */
record Dockerfile(Path path, List<String> instructions) {

  record Copy(String from, String source, String target) {}

  static Dockerfile read(Path path) {
    try {
      String text = String.join("\n", Files.readAllLines(path)).replaceAll("\\\\\n", " ");
      List<String> instructions = new ArrayList<>();
      for (String line : text.split("\n")) {
        String trimmed = line.strip();
        if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
          instructions.add(trimmed.replaceAll("\\s+", " "));
        }
      }
      return new Dockerfile(path, instructions);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  List<String> all(String keyword) {
    return instructions.stream()
        .filter(i -> i.toUpperCase().startsWith(keyword + " "))
        .map(i -> i.substring(keyword.length() + 1))
        .toList();
  }

  /** The instructions of the last stage (the image that ships). */
  Dockerfile finalStage() {
    int last = 0;
    for (int i = 0; i < instructions.size(); i++) {
      if (instructions.get(i).startsWith("FROM ")) {
        last = i;
      }
    }
    return new Dockerfile(path, instructions.subList(last, instructions.size()));
  }

  List<String> entrypoint() {
    List<String> entrypoints = all("ENTRYPOINT");
    if (entrypoints.size() != 1) {
      throw new AssertionError(path + ": expected one ENTRYPOINT, found " + entrypoints);
    }
    try {
      return new ObjectMapper().readValue(entrypoints.get(0), new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new AssertionError(path + ": ENTRYPOINT is not in exec (JSON array) form: " + entrypoints.get(0), e);
    }
  }

  List<Copy> copies() {
    List<Copy> copies = new ArrayList<>();
    for (String copy : all("COPY")) {
      List<String> words = new ArrayList<>(Arrays.asList(copy.split(" ")));
      String from = null;
      while (words.get(0).startsWith("--")) {
        String flag = words.remove(0);
        if (flag.startsWith("--from=")) {
          from = flag.substring("--from=".length());
        }
      }
      if (words.size() != 2) {
        throw new AssertionError(path + ": expected COPY with one source and one target: " + copy);
      }
      copies.add(new Copy(from, words.get(0), words.get(1)));
    }
    return copies;
  }
}
