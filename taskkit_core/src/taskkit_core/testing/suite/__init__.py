"""The conformance kit as one collectable module (see taskkit_core.testing)."""
