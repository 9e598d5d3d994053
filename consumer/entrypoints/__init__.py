"""How the catalog side is driven: the AMQP worker, its writer child, replay, the embedded sink."""
