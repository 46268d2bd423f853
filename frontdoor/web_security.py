"""The web doors (issue 12): security headers, CSRF protection and input hygiene for every
request, in one pure ASGI middleware so every route — and every console form another module
adds later — gets them without asking.

* Headers: `nosniff` and a Referrer-Policy everywhere; the console and the dashboard get a
  strict Content-Security-Policy (own scripts plus a per-request nonce for the small inline
  start-up scripts, `frame-ancestors 'none'`).
* CSRF for state-changing console/dashboard requests: a browser's Origin (or Referer) must
  be this site, and a signed-in request must carry the session's token — the `csrf_token`
  form field (base.html's `csrf.js` adds it to every POST form; `{{ csrf_field() }}` renders
  it without JavaScript) or the `X-CSRF-Token` header (console.js sets it on fetch). The
  token is an HMAC of the session cookie: nothing to store, new per login.
* A NUL in a query string or a console form is refused with 400 (it would fail the database
  insert with a 500); console and dashboard form bodies are capped in size (413).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import parse_qs, urlsplit

from jinja2 import pass_context
from markupsafe import Markup
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff.auth import COOKIE

STAFF_PREFIXES = ("/console", "/dashboard")
MAX_FORM_BYTES = 64 * 1024
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LOGIN_PATH = "/console/login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORBIDDEN = "ページの有効期限が切れたか、別のサイトからの送信です。ページを読み込み直してから、もう一度お試しください。"


def csrf_token(secret: str, session_cookie: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{session_cookie}".encode(), hashlib.sha256).hexdigest()[:40]


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                out[key] = val
    return out


def _header(scope: Scope, key: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == key:
            return value.decode("latin-1")
    return None


def install_template_globals(env, secret_of) -> None:  # noqa: ANN001
    """`csp_nonce()`, `csrf_token()` and `csrf_field()` for templates; `secret_of(request)`
    returns the secret key (from the runtime's settings)."""

    def _token(request) -> str:  # noqa: ANN001
        cookie = request.cookies.get(COOKIE)
        return csrf_token(secret_of(request), cookie) if cookie else ""

    env.globals["csp_nonce"] = pass_context(lambda ctx: ctx["request"].scope.get("csp_nonce", ""))
    env.globals["csrf_token"] = pass_context(lambda ctx: _token(ctx["request"]))
    env.globals["csrf_field"] = pass_context(
        lambda ctx: Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, _token(ctx["request"]))
    )


class WebSecurity:
    def __init__(self, app: ASGIApp, *, secret_key: str, public_base_url: str):
        self.app = app
        self.secret = secret_key
        self.public_origin = "{0.scheme}://{0.netloc}".format(urlsplit(public_base_url))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await self._refuse(scope, send, 400, "送信の内容が正しくありません（使えない文字が含まれています）。")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        staff_area = scope["path"].startswith(STAFF_PREFIXES)
        nonce = secrets.token_urlsafe(16)
        scope["csp_nonce"] = nonce
        if staff_area and scope["method"] in UNSAFE:
            body = await self._read_body(receive)
            if body is None:
                await self._refuse(scope, send, 413, "送信の内容が大きすぎます。")
                return
            problem = self._csrf_problem(scope, body)
            if problem:
                await self._refuse(scope, send, *problem)
                return
            receive = self._replay(body)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if staff_area:
                    policy = (
                        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                        "form-action 'self'; object-src 'none'"
                    )
                    headers += [(b"content-security-policy", policy.encode()), (b"x-frame-options", b"DENY")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes) -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        return receive

    def _csrf_problem(self, scope: Scope, body: bytes) -> tuple[int, str] | None:
        origin = _header(scope, b"origin") or _origin_of(_header(scope, b"referer"))
        if origin is not None and origin not in (self.public_origin, self._own_origin(scope)):
            return 403, FORBIDDEN
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip()
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if content_type == "application/x-www-form-urlencoded" else {}
        if content_type == "application/x-www-form-urlencoded" and b"%00" in body:
            return 400, "送信の内容が正しくありません（使えない文字が含まれています）。"
        cookie = _cookies(scope).get(COOKIE)
        if not cookie or scope["path"] == LOGIN_PATH:
            return None  # not signed in: nothing to forge (signing in is covered by the Origin check)
        given = _header(scope, CSRF_HEADER.encode()) or (form.get(CSRF_FIELD) or [""])[0]
        if not hmac.compare_digest(given.encode(), csrf_token(self.secret, cookie).encode()):
            return 403, FORBIDDEN
        return None

    @staticmethod
    def _own_origin(scope: Scope) -> str:
        host = _header(scope, b"host") or ""
        return f"{scope.get('scheme', 'http')}://{host}"

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status})
            return
        wants_html = "text/html" in (_header(scope, b"accept") or "")
        if wants_html:
            body = f'<!doctype html><html lang="ja"><meta charset="utf-8"><p>{text}</p></html>'.encode()
            ctype = b"text/html; charset=utf-8"
        else:
            body = json.dumps({"detail": text}, ensure_ascii=False).encode()
            ctype = b"application/json"
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", ctype), (b"content-length", str(len(body)).encode()), (b"x-content-type-options", b"nosniff"),
        ]})
        await send({"type": "http.response.body", "body": body})


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

