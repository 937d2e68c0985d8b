"""The event store on SQLite and PostgreSQL: the library's recorders, plus what we keep beside.

`storage.sqlite` and `storage.postgres` are persistence modules in the library's own sense
(its PERSISTENCE_MODULE setting names one); each holds one infrastructure factory, whose
application recorder also writes seals and command keys in each event's transaction and
answers `orders.records.Records`. Every SQL statement the application and the integrity
checks need is here; read models keep their own SQL in `projections`.
"""
