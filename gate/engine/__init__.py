"""Policy engines behind one interface (`interface.Engine`); the registry is `registry.py`."""
