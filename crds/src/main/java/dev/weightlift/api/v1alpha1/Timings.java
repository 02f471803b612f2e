package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/** Wall time of each stage of the update, in milliseconds. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Timings {

    private Long loadMillis;
    private Long gatherMillis;
    private Long transferMillis;
    private Long reloadMillis;
    private Long finalizeMillis;
    private Long totalMillis;

    public Long getLoadMillis() {
        return loadMillis;
    }

    public void setLoadMillis(Long loadMillis) {
        this.loadMillis = loadMillis;
    }

    public Long getGatherMillis() {
        return gatherMillis;
    }

    public void setGatherMillis(Long gatherMillis) {
        this.gatherMillis = gatherMillis;
    }

    public Long getTransferMillis() {
        return transferMillis;
    }

    public void setTransferMillis(Long transferMillis) {
        this.transferMillis = transferMillis;
    }

    public Long getReloadMillis() {
        return reloadMillis;
    }

    public void setReloadMillis(Long reloadMillis) {
        this.reloadMillis = reloadMillis;
    }

    public Long getFinalizeMillis() {
        return finalizeMillis;
    }

    public void setFinalizeMillis(Long finalizeMillis) {
        this.finalizeMillis = finalizeMillis;
    }

    public Long getTotalMillis() {
        return totalMillis;
    }

    public void setTotalMillis(Long totalMillis) {
        this.totalMillis = totalMillis;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Timings t && Objects.equals(loadMillis, t.loadMillis) && Objects.equals(gatherMillis, t.gatherMillis)
                && Objects.equals(transferMillis, t.transferMillis) && Objects.equals(reloadMillis, t.reloadMillis)
                && Objects.equals(finalizeMillis, t.finalizeMillis) && Objects.equals(totalMillis, t.totalMillis);
    }

    @Override
    public int hashCode() {
        return Objects.hash(loadMillis, gatherMillis, transferMillis, reloadMillis, finalizeMillis, totalMillis);
    }
}
