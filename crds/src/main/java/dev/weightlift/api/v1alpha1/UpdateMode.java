package dev.weightlift.api.v1alpha1;

public enum UpdateMode {
    Auto, Broadcast, P2P
}
