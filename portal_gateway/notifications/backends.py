"""Where rendered emails go: the console, a folder of .eml files, or an SMTP server."""

from __future__ import annotations

import logging
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from portal_gateway.config import Settings

log = logging.getLogger(__name__)


class EmailBackend(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class ConsoleBackend:
    """Prints each message (development and demos; refused in live mode)."""

    async def send(self, message: EmailMessage) -> None:
        sys.stdout.write(
            f"\n----- email {message['Message-ID']} -----\n"
            f"To: {message['To']}\nSubject: {message['Subject']}\n\n"
            f"{_text_part(message)}\n----- end of email -----\n"
        )
        sys.stdout.flush()


class FileBackend:
    """One .eml file per delivery, named by the Message-ID; a second delivery of the same
    message (after a crash between sending and marking) is a second file, not an overwrite."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = str(message["Message-ID"]).strip("<>").replace("@", "_at_")
        attempt = len(list(self.directory.glob(f"{stem}*.eml")))
        name = f"{stem}.eml" if attempt == 0 else f"{stem}.{attempt}.eml"
        (self.directory / name).write_bytes(bytes(message))


class SmtpBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=30,
        )


def backend_from_settings(settings: Settings) -> EmailBackend:
    if settings.email_backend == "file":
        return FileBackend(settings.email_dir)
    if settings.email_backend == "smtp":
        return SmtpBackend(settings)
    return ConsoleBackend()


def _text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
