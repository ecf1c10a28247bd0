"""Periods and buckets shared by the reports: a year back, the UTC bounds of local days, and the buckets (day, ISO
week, month, quarter, year) a period is cut into, with their labels."""

from __future__ import annotations

import datetime as dt

from django.db.models.functions import (
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)

from reports.base import Grain
from vetpms.timeutils import local_day_bounds


def years_back(day: dt.date, years: int = 1) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first instant of ``start``, first instant after ``end``) in UTC."""
    return local_day_bounds(start)[0], local_day_bounds(end)[1]


TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


def bucket_of(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the bucket ``day`` falls in (what the database's Trunc gives)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_bucket(bucket: dt.date, grain: Grain) -> dt.date:
    if grain == "day":
        return bucket + dt.timedelta(days=1)
    if grain == "week":
        return bucket + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = bucket.month - 1 + months
    return bucket.replace(year=bucket.year + index // 12, month=index % 12 + 1, day=1)


def buckets(start: dt.date, end: dt.date, grain: Grain) -> list[dt.date]:
    found, bucket = [], bucket_of(start, grain)
    while bucket <= end:
        found.append(bucket)
        bucket = next_bucket(bucket, grain)
    return found


def bucket_label(bucket: dt.date, grain: Grain) -> str:
    if grain == "day":
        return f"{bucket.day} {bucket:%b %Y}"
    if grain == "week":
        year, week, _ = bucket.isocalendar()
        return f"{year}-W{week:02d} ({bucket.day} {bucket:%b})"
    if grain == "month":
        return f"{bucket:%b %Y}"
    if grain == "quarter":
        return f"{bucket.year} Q{(bucket.month - 1) // 3 + 1}"
    return str(bucket.year)


def a_year_later(bucket: dt.date, grain: Grain) -> dt.date:
    """The bucket a year after ``bucket`` (weeks keep their ISO week number; week 53 goes to week 52)."""
    if grain == "week":
        year, week, _ = bucket.isocalendar()
        for w in (week, week - 1):
            try:
                return dt.date.fromisocalendar(year + 1, w, 1)
            except ValueError:
                continue
    if grain == "day":
        return (
            bucket.replace(year=bucket.year + 1)
            if (bucket.month, bucket.day) != (2, 29)
            else bucket.replace(year=bucket.year + 1, day=28)
        )
    return bucket.replace(year=bucket.year + 1)


def as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    """A Trunc result as a date (PostgreSQL's DATE_TRUNC on a date answers a timestamp)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value
