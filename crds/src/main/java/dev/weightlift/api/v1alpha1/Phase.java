package dev.weightlift.api.v1alpha1;

/** Where an update stands; the last three are terminal for a given generation. */
public enum Phase {
    Pending, Loading, Transferring, Finalizing, Succeeded, Failed, Superseded;

    public boolean isTerminal() {
        return this == Succeeded || this == Failed || this == Superseded;
    }
}
