"""RabbitMQ, as the catalog side uses it outside the worker: the dead-letter queue."""
