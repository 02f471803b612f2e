package dev.weightlift.api.v1alpha1;

public enum ScaleUpPolicy {
    P2P, None
}
