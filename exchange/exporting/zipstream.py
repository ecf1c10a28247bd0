"""The export zip written as it is read: ``zipfile`` writes into a sink that the response drains after each batch
of rows, so neither the CSVs nor the zip are ever whole in memory or on disk (zipfile marks each entry's sizes in
a data descriptor after its data when the output cannot seek)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

from exchange.exporting.rows import ROWS, cells
from exchange.importing.columns import ENTITIES

FLUSH_BYTES = 256 * 1024


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken by the generator; ``tell`` counts what has gone through (zipfile
    needs the offsets for its central directory)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        data = bytes(data)
        self._parts.append(data)
        self._size += len(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    @property
    def pending(self) -> int:
        return self._size

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        return data


def export_zip() -> Iterator[bytes]:
    """The chunks of one zip holding a CSV per entity (UTF-8 with a byte-order mark, the spec's headers)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for entity in ENTITIES.values():
            with (
                archive.open(entity.filename, "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            ):
                writer = csv.writer(text)
                writer.writerow(entity.column_names)
                for row in ROWS[entity.name]():
                    writer.writerow(cells(entity, row))
                    if sink.pending >= FLUSH_BYTES:
                        text.flush()
                        yield sink.take()
            yield sink.take()
    yield sink.take()
