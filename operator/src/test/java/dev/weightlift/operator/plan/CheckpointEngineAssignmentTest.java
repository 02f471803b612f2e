package dev.weightlift.operator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The six cases of checkpoint-engine's {@code tests/test_assign_receiver_ranks.py}, with their expected
 * results written as there (compared as sets, like the Python test).
 */
class CheckpointEngineAssignmentTest {

    @Test
    void eightLocalNicsEightRemoteNicsEightyBuckets() {
        check(80, topo(8, 1, 1), topo(8, 1, 1), i -> i % 8);
    }

    @Test
    void remoteNicsSharedByRankPairs() {
        check(80, topo(8, 1, 1), topo(4, 2, 2), i -> i / 2 % 4);
    }

    @Test
    void twoLocalNicsOfFourRanks() {
        check(80, topo(2, 4, 4), topo(8, 1, 1), i -> i % 2 * 4);
    }

    @Test
    void sharedRemoteNicsThirteenBuckets() {
        check(13, topo(8, 1, 1), topo(4, 2, 2), i -> i / 2 % 4);
    }

    @Test
    void sharedLocalNicsThirteenBuckets() {
        check(13, topo(4, 2, 2), topo(8, 1, 1), i -> i % 4 * 2);
    }

    @Test
    void threeLocalNicsFourRemoteNics() {
        int[] receiverOfBucket = {0, 1, 1, 2, 2, 0, 0, 1, 2, 2, 0, 0, 1};
        check(13, topo(3, 1, 1), topo(4, 2, 2), i -> receiverOfBucket[i]);
    }

    @Test
    void noBuckets() {
        assertEquals(List.of(), CheckpointEngineAssignment.assign(List.of(), topo(1, 1, 1), topo(1, 1, 1)));
    }

    private static void check(int buckets, LinkedHashMap<String, Set<Integer>> local,
                              LinkedHashMap<String, Set<Integer>> remote, IntUnaryOperator receiver) {
        List<CheckpointEngineAssignment.Input> in = new ArrayList<>();
        Set<CheckpointEngineAssignment.Output> expected = new HashSet<>();
        for (int i = 0; i < buckets; i++) {
            in.add(new CheckpointEngineAssignment.Input(i % 8, i));
            expected.add(new CheckpointEngineAssignment.Output(receiver.applyAsInt(i), i % 8, i));
        }
        List<CheckpointEngineAssignment.Output> actual = CheckpointEngineAssignment.assign(in, local, remote);
        assertEquals(buckets, actual.size());
        assertEquals(expected, new HashSet<>(actual));
    }

    /** {@code rdma<i*stride>: {i*stride .. i*stride+size-1}} for i in range(groups), as the Python test. */
    static LinkedHashMap<String, Set<Integer>> topo(int groups, int size, int stride) {
        LinkedHashMap<String, Set<Integer>> topo = new LinkedHashMap<>();
        IntFunction<String> name = i -> "rdma" + i;
        for (int g = 0; g < groups; g++) {
            Set<Integer> ranks = new TreeSet<>();
            for (int r = 0; r < size; r++) {
                ranks.add(g * stride + r);
            }
            topo.put(name.apply(g * stride), ranks);
        }
        return topo;
    }
}
