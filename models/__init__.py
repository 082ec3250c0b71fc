"""The shipped model files (package data): ner-ar-small, events-ar-small, neardup."""
