"""Arabic text rules, canonical URLs and evaluation metrics: the bottom layer, no I/O."""
