"""A model's message payload, written by its REST serializer.

A stream's payload is its REST representation (clients meet one shape on
both), so it is written by the app's serializer. Making a serializer
builds and deep-copies its fields, several times the cost of writing one
row; a snapshot, replay or broadcast made a new one each time, on the
streams' one database thread. `Payloads` makes its serializer once and
writes every payload with it (`to_representation`, which keeps no state
between rows).
"""

from collections.abc import Iterable


class Payloads:
    def __init__(self, serializer_class):
        self.serializer_class = serializer_class
        self._serializer = None

    @property
    def serializer(self):
        # Made on first use: by then every app is loaded.
        if self._serializer is None:
            self._serializer = self.serializer_class()
        return self._serializer

    def of(self, instance) -> dict:
        return self.serializer.to_representation(instance)

    def of_many(self, instances: Iterable) -> list[dict]:
        write = self.serializer.to_representation
        return [write(instance) for instance in instances]
