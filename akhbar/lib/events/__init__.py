"""The event classifier (plain library): taxonomy rules, inputs, the ONNX/numpy model, the enrichment branch."""
from akhbar.lib.events.decision import EVENT_TYPES, OTHER, EventPrediction, calibrate_primary, decide
from akhbar.lib.events.model import EventModel

__all__ = ["EVENT_TYPES", "OTHER", "EventModel", "EventPrediction", "calibrate_primary", "decide"]
