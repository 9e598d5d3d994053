"""The ingestor: watch folders, wait until files are complete, fingerprint them, publish events."""
