"""A real SMTP server for the browser tests (Debian's python3-aiosmtpd): it listens on a free
loopback port, prints `listening PORT`, then one JSON line per message received, with the
envelope and the decoded text of the message (so that quoted-printable or base64 bodies and
folded headers need no decoding in the test)."""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


class Printer:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        line = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(msg.get("subject", "")),
            "to": str(msg.get("to", "")),
            "body": body,
            "headers": {k: str(msg.get(k)) for k in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id") if msg.get(k)},
            "attachments": [
                {"filename": a.get_filename(), "content_type": a.get_content_type(), "content": a.get_content() if a.get_content_maintype() == "text" else ""}
                for a in msg.iter_attachments()
            ],
        }
        print(json.dumps(line), flush=True)
        return "250 Message accepted for delivery"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Printer(), enable_SMTPUTF8=True), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
