"""The web channel at run time: `/refer`, `/guidelines` and their static files on the one server.

Every post is answered with a redirect to the page (post/redirect/get), so a reload never sends
an answer twice; the screen to show after it is kept in memory for a while (a reload shows it
again), and when it is gone (a restart, a long pause) the page asks the core to re-ask the
current question instead.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from importlib import resources
from typing import Any, Awaitable, Callable

from aiohttp import web
from jinja2 import Environment, PackageLoader

from adapters.web import WebSettings
from adapters.web.guard import MAX_BODY, RateLimit, Sessions, client_address, security_headers
from adapters.web.pages import CHANNEL, COMMANDS, Screen, parse_form, screen, source_code, to_inbound
from referbot.app import Runtime
from referbot.domain import Inbound
from referbot.errors import BadRequest
from referbot.messages import guidelines_message
from referbot.ports import Notifier
from referbot.service import Outcome

log = logging.getLogger(__name__)

STATIC = {"referbot.css": "text/css", "referbot.js": "text/javascript"}
#: Screens kept to show after a post's redirect: at most this many (oldest dropped first), for at
#: most this many seconds (they may hold a client's details; the database keeps the intake).
PENDING_LIMIT, PENDING_SECONDS = 10_000, 1800.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebChannel:
    name = CHANNEL

    def __init__(self, runtime: Runtime, settings: WebSettings) -> None:
        assert settings.secret, "the settings require a secret when the channel is enabled"
        self.service = runtime.service
        self.profile = runtime.profile
        self.settings = settings
        self.base = settings.base_path
        self.sessions = Sessions(settings.secret, secure=settings.secure_cookie)
        self.by_address = RateLimit(settings.posts_per_minute)
        self.by_session = RateLimit(settings.posts_per_minute)
        self.pending: OrderedDict[str, tuple[float, Outcome]] = OrderedDict()
        self.templates = Environment(loader=PackageLoader("adapters.web", "templates"), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True)

    def notifiers(self) -> list[Notifier]:
        return []  # the page is for referrers; staff are told through Slack or Telegram

    def mount(self, app: web.Application) -> bool:
        app.router.add_get(f"{self.base}/refer", self._secured(self.refer_page))
        app.router.add_post(f"{self.base}/refer", self._secured(self.refer_post))
        app.router.add_get(f"{self.base}/guidelines", self._secured(self.guidelines_page))
        app.router.add_get(f"{self.base}/refer/static/{{name}}", self._secured(self.static))
        return True

    async def start(self) -> None:
        log.info("web: referral page at %s/refer", self.base)

    async def stop(self) -> None:
        self.pending.clear()

    # --- pages ----------------------------------------------------------------------------------

    async def refer_page(self, request: web.Request) -> web.StreamResponse:
        """A new visitor sees what this is and a Start button; a returning one resumes where they were."""
        source = source_code(request.query.get("source"))
        session = self.sessions.current(request)
        if session is None:
            session = self.sessions.new()
            response = self._render("start.html", request, session=session, source=source)
            self.sessions.remember(response, session, self.base)
            return response
        outcome = self._last_screen(session)
        if outcome is None:
            outcome = await self.service.handle(Inbound(CHANNEL, session, source_code=source))
        return self._render("refer.html", request, session=session, screen=self._screen(outcome), source=None)

    async def refer_post(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._problem(request, 413, "That was too much text to send at once.")
        if request.content_type != "application/x-www-form-urlencoded":
            return self._problem(request, 415, "Please use the form on the page.")
        if not self.by_address.allow(client_address(request, trust_proxy=self.settings.trust_proxy)):
            return self._problem(request, 429, "Too many answers at once. Please wait a minute and try again.",
                                 headers={"Retry-After": "60"})
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return self._problem(request, 413, "That was too much text to send at once.")
        session = self.sessions.current(request)
        if session is None:
            return self._problem(request, 403, "This page was open too long or cookies are blocked. "
                                               "Please reload it to continue.")
        try:
            posted = parse_form(body)
        except BadRequest as problem:
            return self._problem(request, 400, str(problem))
        if not self.sessions.csrf_ok(session, posted.csrf):
            return self._problem(request, 403, "This form did not come from this page. Please reload it to continue.")
        if not self.by_session.allow(session):
            return self._problem(request, 429, "Too many answers at once. Please wait a minute and try again.",
                                 headers={"Retry-After": "60"})
        outcome = await self.service.handle(to_inbound(posted, session))
        if not outcome.duplicate:  # a double submit shows what the first one produced
            self.pending[session] = (time.monotonic(), outcome)
            self.pending.move_to_end(session)
            while len(self.pending) > PENDING_LIMIT:
                self.pending.popitem(last=False)
        raise web.HTTPSeeOther(f"{self.base}/refer")

    async def guidelines_page(self, request: web.Request) -> web.StreamResponse:
        return self._render("guidelines.html", request, guidelines=guidelines_message(self.profile))

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("adapters.web").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"})

    # --- helpers --------------------------------------------------------------------------------

    def _last_screen(self, session: str) -> Outcome | None:
        kept = self.pending.get(session)
        if kept is None or time.monotonic() - kept[0] > PENDING_SECONDS:
            self.pending.pop(session, None)
            return None
        return kept[1]

    def _screen(self, outcome: Outcome) -> Screen:
        step = self.service.engine.flow.step(outcome.step) if outcome.step else None
        return screen(outcome.replies, outcome.state, step.type if step else None)

    def _render(self, template: str, request: web.Request, *, status: int = 200,
                headers: dict[str, str] | None = None, session: str | None = None, **values: Any) -> web.Response:
        html = self.templates.get_template(template).render(
            practice=self.profile.practice, base=self.base, commands=COMMANDS, session=session is not None,
            csrf=self.sessions.csrf_token(session) if session else "", turn=secrets.token_urlsafe(16),
            crisis_resources=self.profile.crisis.resources, **values)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=headers)

    def _problem(self, request: web.Request, status: int, message: str,
                 headers: dict[str, str] | None = None) -> web.Response:
        return self._render("problem.html", request, status=status, headers=headers, message=message)

    def _secured(self, handler: Handler) -> Handler:
        """Security headers on every response, errors included."""
        async def secured(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPException as exception:
                security_headers(exception, self.settings.frame_ancestors)
                raise
            security_headers(response, self.settings.frame_ancestors)
            return response

        return secured

