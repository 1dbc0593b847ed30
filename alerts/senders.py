"""The channels: webhook (HMAC-signed JSON), e-mail (SMTP), Telegram Bot API, Zalo OA API.

Each sender takes one rendered message for one contact and either returns or raises
``SendError`` with a short reason that never contains a secret (bot token, password). Messages
carry the catalog's place and device names and a link to the area's page when ``names`` is given
(``alerts.names.CatalogNames``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol

from alerts.messages import Message, Names, payload, render
from alerts.routing import Channels, Contact

SIGNATURE_HEADER = "X-Smartarea-Signature"


class SendError(Exception):
    pass


class Sender(Protocol):
    def __call__(self, message: Message, contact: Contact) -> None: ...


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, secret: str = ""
) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise SendError("the URL must start with http:// or https://")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bytes(response.read(65536))
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = str(getattr(exc, "reason", exc))
        raise SendError(reason.replace(secret, "***") if secret else reason) from None


class Senders:
    """The configured channels; ``send`` picks the one a contact names."""

    def __init__(self, channels: Channels, names: Callable[[str], Names] | None = None) -> None:
        self.channels = channels
        self.names = names

    def _names(self, message: Message) -> Names:
        return self.names(message.area_id) if self.names is not None else Names()

    def send(self, message: Message, contact: Contact) -> None:
        {
            "webhook": self.webhook,
            "email": self.email,
            "telegram": self.telegram,
            "zalo": self.zalo,
        }[contact.channel](message, contact)

    def webhook(self, message: Message, contact: Contact) -> None:
        config = self.channels.webhook
        if config is None:
            raise SendError("webhook channel not configured")
        body = payload(message, contact.language, self._names(message))
        secret = config.secret.get_secret_value().encode()
        _post(contact.to, body, {SIGNATURE_HEADER: sign(secret, body)}, config.timeout_s)

    def email(self, message: Message, contact: Contact) -> None:
        config = self.channels.email
        if config is None:
            raise SendError("email channel not configured")
        subject, text = render(message, contact.language, self._names(message))
        mail = EmailMessage()
        mail["From"] = config.sender
        mail["To"] = contact.to
        mail["Subject"] = subject
        mail["Message-ID"] = f"<{message.id}@smartarea>"
        mail.set_content(text)
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username and config.password:
                    smtp.login(config.username, config.password.get_secret_value())
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(type(exc).__name__) from None

    def telegram(self, message: Message, contact: Contact) -> None:
        config = self.channels.telegram
        if config is None:
            raise SendError("telegram channel not configured")
        token = config.token.get_secret_value()
        _, text = render(message, contact.language, self._names(message))
        body = json.dumps({"chat_id": contact.to, "text": text}, ensure_ascii=False).encode()
        url = f"{config.base_url.rstrip('/')}/bot{token}/sendMessage"
        answer = _post(url, body, {}, config.timeout_s, secret=token)
        if not _json(answer).get("ok", False):
            raise SendError("telegram refused the message")

    def zalo(self, message: Message, contact: Contact) -> None:
        config = self.channels.zalo
        if config is None:
            raise SendError("zalo channel not configured")
        _, text = render(message, contact.language, self._names(message))
        body = json.dumps(
            {"recipient": {"user_id": contact.to}, "message": {"text": text}}, ensure_ascii=False
        ).encode()
        url = f"{config.base_url.rstrip('/')}/v3.0/oa/message/cs"
        token = config.access_token.get_secret_value()
        answer = _post(url, body, {"access_token": token}, config.timeout_s, secret=token)
        error = _json(answer).get("error", 0)
        if error != 0:
            raise SendError(f"zalo error {str(error)[:20]}")


def _json(raw: bytes) -> dict[str, object]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
