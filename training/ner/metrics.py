"""Entity-level scores with seqeval conventions (defined beside the eval command, which must not need this package)."""
from pipelines.eval_ner import ner_scores  # noqa: F401
