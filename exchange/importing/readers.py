"""Reading the files other systems export: CSV in UTF-8 (with or without a byte-order mark) or Windows-1252, comma,
semicolon or tab separated (sniffed), and .xlsx (openpyxl in read-only mode; defusedxml installed, so openpyxl
parses the workbook's XML safely).

``read_rows`` yields (row number, cells) where the header is row 1 and each record counts one row, as a
spreadsheet shows the file (a quoted newline stays inside its row; a blank line is a row with no cells).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

from exchange.importing.columns import normalise

MAX_CELL = 10_000  # a cell longer than this is cut (and the column's own limit reports it)
csv.field_size_limit(1_000_000)


class UnreadableFile(ValueError):
    pass


@dataclass
class Sniffed:
    kind: str
    encoding: str
    delimiter: str
    headers: list[str]


def kind_of(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise UnreadableFile(f"{filename}: only .csv and .xlsx files can be imported (save other formats as one of these).")


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (a BOM dropped) when it decodes, else Windows-1252."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined; those become U+FFFD rather than stopping the import.
        return content.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: whichever of ; , tab | occurs most outside quotes (comma on a tie)."""
    first = ""
    for line in text.splitlines():
        if line.strip():
            first = line
            break
    counts: dict[str, int] = {}
    for candidate in (",", ";", "\t", "|"):
        in_quotes, count = False, 0
        for ch in first:
            if ch == '"':
                in_quotes = not in_quotes
            elif ch == candidate and not in_quotes:
                count += 1
        counts[candidate] = count
    best = max(counts, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_records(content: bytes, encoding: str, delimiter: str) -> Iterator[list[str]]:
    text = content.decode(encoding, errors="replace") if encoding else decode(content)[0]
    if text.startswith("\ufeff"):
        text = text[1:]
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ",")


def _xlsx_records(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell comes back as its text ("=HYPERLINK(...)") and is stored as text.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise UnreadableFile(f"This is not a readable .xlsx workbook ({exc.__class__.__name__}).") from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        book.close()


def records(*, kind: str, content: bytes, encoding: str = "", delimiter: str = "") -> Iterator[list[str]]:
    """Every record of the file, the header first, cells stripped and cut at MAX_CELL."""
    source = _xlsx_records(content) if kind == "xlsx" else _csv_records(content, encoding, delimiter)
    try:
        for record in source:
            yield [cell.strip()[:MAX_CELL] for cell in record]
    except csv.Error as exc:
        raise UnreadableFile(f"The file stops being readable CSV: {exc}.") from exc


def sniff(*, filename: str, content: bytes) -> Sniffed:
    kind = kind_of(filename)
    encoding, delimiter = "", ""
    if kind == "csv":
        text, encoding = decode(content)
        delimiter = sniff_delimiter(text[:20_000])
    headers: list[str] = []
    for record in records(kind=kind, content=content, encoding=encoding, delimiter=delimiter):
        if any(record):
            headers = record
            break
    # Trailing empty header cells (a spreadsheet's ragged edge) are dropped.
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise UnreadableFile(f"{filename}: no header row found (the first non-empty row must name the columns).")
    return Sniffed(kind=kind, encoding=encoding, delimiter=delimiter, headers=headers)


def data_rows(*, kind: str, content: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every row after the header; rows with no text at all are left out."""
    seen_header = False
    for number, record in enumerate(records(kind=kind, content=content, encoding=encoding, delimiter=delimiter), 1):
        if not any(record):
            continue
        if not seen_header:
            seen_header = True
            continue
        yield number, record


def duplicate_headers(headers: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for h in headers:
        key = normalise(h)
        if key and key in seen and h not in dupes:
            dupes.append(h)
        seen.add(key)
    return dupes
