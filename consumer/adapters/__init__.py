"""The catalog side's adapters: the database, the importers, RabbitMQ."""
