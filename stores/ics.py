"""An iCalendar (RFC 5545) event for an appointment, written with the standard library."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from .models import Appointment


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def appointment_ics(appointment: Appointment, *, summary: str, description: str,
                    cancelled: bool = False, now: datetime | None = None) -> str:
    store = appointment.store
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Jinyuan Jewellery//Try-on//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{appointment.number}@tryon.jinyuan",
        f"SEQUENCE:{appointment.sequence + (1 if cancelled else 0)}",
        f"DTSTAMP:{_utc(now or timezone.now())}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(f'{store.title}, {store.address}')}",
        f"DESCRIPTION:{_escape(description)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if store.latitude is not None and store.longitude is not None:
        lines.append(f"GEO:{store.latitude};{store.longitude}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
