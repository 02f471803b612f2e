package dev.weightlift.protocol;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code java -cp … dev.weightlift.protocol.CurveKeyTool DIR}: writes the four key files of
 * {@link CurveKeys} into DIR, for local runs or a Secret made by hand ({@code kubectl create secret generic
 * --from-file=DIR}). In a cluster the chart's install hook runs the operator's {@code CurveKeySecretTool} instead.
 */
public final class CurveKeyTool {

    private CurveKeyTool() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: CurveKeyTool DIR   (writes server.public, server.secret, agent.public, agent.secret)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        CurveKeys.generate(dir);
        System.out.println("wrote CURVE keys to " + dir.toAbsolutePath());
    }
}
