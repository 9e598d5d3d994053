"""The catalog's use cases: the one apply path, collection and source ingest, admin and
queries. Depends on the domain and on the ports in `unit_of_work.py`, never on an adapter."""
