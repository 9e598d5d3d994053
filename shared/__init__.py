"""The wire contract between Apollonia's services (message schemas and broker topology)."""
