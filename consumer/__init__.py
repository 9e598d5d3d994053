"""The catalog side: domain rules, persistence, importers, ingest and the AMQP consumer."""
