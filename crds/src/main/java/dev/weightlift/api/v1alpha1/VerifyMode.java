package dev.weightlift.api.v1alpha1;

public enum VerifyMode {
    None, Checksum
}
