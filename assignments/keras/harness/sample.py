"""sample_with_temperature: counts (len(temperatures), len(probs)) of n draws per temperature,
and what it does with a temperature <= 0 (the notebook asks for ValueError)."""

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
    rejects = []  # per temperature 0 and -1: 1 ValueError, 0 no exception, -1 another exception
    for t in (0.0, -1.0):
        try:
            fn(probs.copy(), t, np.random.default_rng(int(seed)))
            rejects.append(0)
        except ValueError:
            rejects.append(1)
        except Exception:
            rejects.append(-1)
    return {"counts": np.array(counts), "rejects": np.array(rejects)}
