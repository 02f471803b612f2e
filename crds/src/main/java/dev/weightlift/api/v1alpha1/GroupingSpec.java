package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

public class GroupingSpec {

    @Required
    @Size(min = 1, max = 1024)
    @JsonPropertyDescription("Java regular expression over tensor names; matching tensors are grouped by the capturing groups that took part in the match (joined by /), and every group travels in one bucket.")
    private String pattern;

    public String getPattern() {
        return pattern;
    }

    public void setPattern(String pattern) {
        this.pattern = pattern;
    }
}
