package dev.weightlift.operator.plan;

/** Input the planner cannot turn into a plan; the message names the tensor, group, GPU or field. */
public class PlanException extends RuntimeException {
    public PlanException(String message) {
        super(message);
    }
}
