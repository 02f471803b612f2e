package dev.weightlift.api.v1alpha1;

import java.util.Objects;

/** Counts over every selected pod (the per-pod list in the status is bounded; these are not). */
public class Targets {

    private int total;
    private int updated;
    private int failed;

    public Targets() {
    }

    public Targets(int total, int updated, int failed) {
        this.total = total;
        this.updated = updated;
        this.failed = failed;
    }

    public int getTotal() {
        return total;
    }

    public void setTotal(int total) {
        this.total = total;
    }

    public int getUpdated() {
        return updated;
    }

    public void setUpdated(int updated) {
        this.updated = updated;
    }

    public int getFailed() {
        return failed;
    }

    public void setFailed(int failed) {
        this.failed = failed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Targets t && total == t.total && updated == t.updated && failed == t.failed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(total, updated, failed);
    }
}
