"""Notices by mail (SMTP): one message per notice, with a Message-ID derived from the task.

The Message-ID is the same on every delivery of the same external task, so
if a worker dies between sending and recording, the repeated message carries
the identity the relay and the mail client use to drop duplicates.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate


class Mailer:
    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, to: str, subject: str, body: str, message_id: str) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = f"<{message_id}@onewindow.qingpu>"
        message.set_content(body, charset="utf-8")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)
        return message["Message-ID"]
