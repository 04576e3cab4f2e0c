"""Settings of the sample shop."""

DATABASE_PASSWORD = "hunter2"
DEBUG = False
