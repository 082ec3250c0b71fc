"""Named entities (plain library): word features, runtimes (ONNX, Hugging Face), whole-text entities."""
from akhbar.lib.ner.enricher import NerEnricher
from akhbar.lib.ner.entities import find_entities, tag_words, windows
from akhbar.lib.ner.hf import HuggingFaceRuntime
from akhbar.lib.ner.labels import ENTITY_TYPES, map_label
from akhbar.lib.ner.runtime import TagRuntime, WordModelRuntime, load_runtime, viterbi

__all__ = ["ENTITY_TYPES", "HuggingFaceRuntime", "NerEnricher", "TagRuntime", "WordModelRuntime", "find_entities",
           "load_runtime", "map_label", "tag_words", "viterbi", "windows"]
