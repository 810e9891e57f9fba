"""sample_with_temperature: counts (len(temperatures), len(probs)) of n draws per temperature."""

import numpy as np


def run(namespace, probs, temperatures, n, seed):
    fn = namespace["sample_with_temperature"]
    counts = []
    for t in temperatures:
        rng = np.random.default_rng(int(seed))
        c = np.zeros(len(probs))
        for _ in range(int(n)):
            c[int(fn(probs.copy(), float(t), rng))] += 1
        counts.append(c)
    return np.array(counts)
