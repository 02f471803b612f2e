package dev.weightlift.charts;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;

class ChartLintTest {

  @Test
  void chartPassesStrictLint() {
    LintResult result = new Helm(RenderedChart.CHART).lint().strict().call();

    assertFalse(result.isFailed(), () -> "helm lint --strict failed: " + result.getMessages());
  }
}
