"""A local debugging SMTP server for `make demo` (a stand-in for the district's mail relay).

Not part of the product. Every message the workers send is written to
``instance/mailbox/<n>.eml`` and announced on the console, so a demo user can
read the receipts, supplement notices and rating invitations an applicant gets.
"""
from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MailboxHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        number = len(list(self.directory.glob("*.eml"))) + 1
        (self.directory / f"{number:05d}.eml").write_bytes(envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        print(f"[mail] to {message['To']}: {message['Subject']}", flush=True)
        return "250 OK"


def start(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    controller = Controller(MailboxHandler(directory), hostname=host, port=port)
    controller.start()
    return controller
