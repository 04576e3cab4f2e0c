"""Output formats behind one interface (`interface.Formatter`); the registry is `registry.py`."""
