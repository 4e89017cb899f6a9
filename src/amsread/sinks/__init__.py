"""Destinations that ``amsread run`` feeds: MQTT (with Home Assistant discovery) and friends.

Every destination has the same small interface, so one reader can feed them all: a ``name``
(for messages), ``handle(reading, raw)`` (one reading and the frame it came in, ``raw`` None
when there is none; returns at once, never blocks on I/O) and ``close()`` (flush, release, idempotent).
``store.HistoryStore`` has it too.
"""
