"""Logging filters of the shop's own."""

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A 403 is an answer, not a fault: Django logs "Forbidden (Permission denied)" with
    the PermissionDenied's traceback, which buried real errors under stack dumps of
    every refused click. The line stays; the traceback goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
