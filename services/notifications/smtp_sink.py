"""A local SMTP sink for development: every message becomes one readable `.eml` file.

    python -m services.notifications.smtp_sink --port 8025 --dir var/mail

Nothing is relayed anywhere; open the files with any mail program or a text editor.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirSink:
    """aiosmtpd handler writing each accepted message to `<dir>/<time>-<recipient>-<id>.eml`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        first = re.sub(r"[^A-Za-z0-9@._-]", "_", (envelope.rcpt_tos or ["unknown"])[0])[:80]
        path = self.directory / f"{stamp}-{first}-{uuid.uuid4().hex[:8]}.eml"
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        header = f"X-Sink-Envelope-From: {envelope.mail_from}\r\nX-Sink-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(header.encode() + data)
        tmp.rename(path)  # readers never see a half-written file
        return "250 Message accepted for delivery"


def start(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    controller = Controller(MaildirSink(directory), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Keep every e-mail Vejviser sends as an .eml file.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default="var/mail", type=Path)
    args = parser.parse_args(argv)
    controller = start(args.dir, args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port}, writing to {args.dir.resolve()}", flush=True)
    done = threading.Event()

    def _stop(*_: Any) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
