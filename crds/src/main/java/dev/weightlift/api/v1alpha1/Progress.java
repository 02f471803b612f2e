package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class Progress {

    private Long bytesTotal;
    private Long bytesDone;
    private Integer bucketsTotal;
    private Integer bucketsDone;
    private Integer percent;
    private Long etaSeconds;
    /** Human form for the printer column, e.g. {@code 42% 12.6/30.0 GiB}. */
    private String summary;

    public Long getBytesTotal() {
        return bytesTotal;
    }

    public void setBytesTotal(Long bytesTotal) {
        this.bytesTotal = bytesTotal;
    }

    public Long getBytesDone() {
        return bytesDone;
    }

    public void setBytesDone(Long bytesDone) {
        this.bytesDone = bytesDone;
    }

    public Integer getBucketsTotal() {
        return bucketsTotal;
    }

    public void setBucketsTotal(Integer bucketsTotal) {
        this.bucketsTotal = bucketsTotal;
    }

    public Integer getBucketsDone() {
        return bucketsDone;
    }

    public void setBucketsDone(Integer bucketsDone) {
        this.bucketsDone = bucketsDone;
    }

    public Integer getPercent() {
        return percent;
    }

    public void setPercent(Integer percent) {
        this.percent = percent;
    }

    public Long getEtaSeconds() {
        return etaSeconds;
    }

    public void setEtaSeconds(Long etaSeconds) {
        this.etaSeconds = etaSeconds;
    }

    public String getSummary() {
        return summary;
    }

    public void setSummary(String summary) {
        this.summary = summary;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Progress p && Objects.equals(bytesTotal, p.bytesTotal) && Objects.equals(bytesDone, p.bytesDone)
                && Objects.equals(bucketsTotal, p.bucketsTotal) && Objects.equals(bucketsDone, p.bucketsDone)
                && Objects.equals(percent, p.percent) && Objects.equals(etaSeconds, p.etaSeconds)
                && Objects.equals(summary, p.summary);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bytesTotal, bytesDone, bucketsTotal, bucketsDone, percent, etaSeconds, summary);
    }
}
