"""What keeps the web page safe to put on the open internet: sessions, CSRF tokens, rate limits,
size limits and security headers. Nothing here knows about referrals.

- A session is an unguessable random id in a signed, HttpOnly, SameSite=Lax cookie; it is the
  referrer's identity for the intake (like a Telegram user id), so a returning visitor resumes
  where they were, across server restarts, and nobody can pick up someone else's intake.
- Every form carries a CSRF token derived from the session and the secret (HMAC), so another
  site cannot post into a referrer's intake; it survives restarts as the secret does.
- Posts are limited per client address and per session (a sliding one-minute window).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict, deque

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "referbot_session"
#: A session unused this long is forgotten by the browser (the intake stays in the database).
SESSION_MAX_AGE = 30 * 24 * 3600
#: The largest form post accepted; an answer is limited much lower (MAX_ANSWER).
MAX_BODY = 16 * 1024
MAX_ANSWER = 4000
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32}")


class Sessions:
    """Signed session cookies and the CSRF tokens that go with them."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="referbot-web-session")
        self._csrf_key = hashlib.sha256(b"referbot-web-csrf:" + secret.encode()).digest()
        self.secure = secure

    def current(self, request: web.Request) -> str | None:
        """The session id from a valid cookie, or None (no cookie, forged, expired)."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            session = self._signer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        return session if isinstance(session, str) and _SESSION_ID.fullmatch(session) else None

    def new(self) -> str:
        return secrets.token_urlsafe(24)

    def remember(self, response: web.StreamResponse, session: str, path: str) -> None:
        response.set_cookie(COOKIE, self._signer.dumps(session), max_age=SESSION_MAX_AGE, path=path or "/",
                            httponly=True, secure=self.secure, samesite="Lax")

    def csrf_token(self, session: str) -> str:
        return hmac.new(self._csrf_key, session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session), token)


class RateLimit:
    """At most `limit` events per `window` seconds per key; keys unused for a window are dropped."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        allowed = len(events) < self.limit
        if allowed:
            events.append(now)
        self._events[key] = events  # most recently used last
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return allowed


def client_address(request: web.Request, *, trust_proxy: bool) -> str:
    """The client's address: the nearest hop of X-Forwarded-For when a trusted proxy sets it."""
    if trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def security_headers(response: web.StreamResponse, frame_ancestors: str) -> None:
    """No third-party anything, no framing unless the practice allows its own site, nothing cached
    (pages show a client's details), no referrer leaking a source code to other sites."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors or chr(39) + 'none' + chr(39)}")
    if not frame_ancestors:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
