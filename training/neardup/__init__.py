"""Near-duplicate training data: candidate mining on ant_multisource, the labeled pairs, the pair scorer."""
