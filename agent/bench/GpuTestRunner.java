import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.nio.file.Path;
import java.util.Set;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;

/** Runs the agent's JUnit tests in ARGS[0] (a class directory) whose class names match ARGS[1], on the GPU machine (no Maven there); exit 1 on any failure. */
public class GpuTestRunner {
    public static void main(String[] args) {
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClasspathRoots(Set.of(Path.of(args[0]))))
                .filters(includeClassNamePatterns(args[1])).build(), listener);
        TestExecutionSummary summary = listener.getSummary();
        summary.printTo(new PrintWriter(System.out));
        summary.printFailuresTo(new PrintWriter(System.out), 20);
        System.out.println("tests_found=" + summary.getTestsFoundCount() + " succeeded=" + summary.getTestsSucceededCount()
                + " skipped=" + summary.getTestsSkippedCount() + " aborted=" + summary.getTestsAbortedCount()
                + " failed=" + summary.getTotalFailureCount());
        System.exit(summary.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
