"""The project's one HTTP client and its address guard, and charset decoding."""
