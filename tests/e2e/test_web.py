"""The web channel end to end: `referbot run` (the channel found only through its entry point) and a
real headless Chromium. Whole referrals with and without JavaScript, on SQLite and PostgreSQL; a
validation error; back and edit; the crisis path; a source's link; a server restart mid-intake;
hostile input; a double submit; forged, malformed and oversized posts. Screenshots of every step
are kept under tests/artifacts/web/.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import urllib.error
import urllib.request
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from referbot.store import Database, UnitOfWork
from referbot.store.encryption import Cipher
from referbot.store.models import Conversation
from referbot.views import referral_view
from tests.conftest import pg_server_psql
from tests.e2e.browser import Referrer, WebServer, chromium, close

INTAKE = ["Dr. Ann Lee", "physician", "Lakeview Family Medicine", "ann.lee@lakeview.example", "J.", "34",
          "panic attacks", "no", "skip", "individual", "either", "skip", "routine", "private pay", "no", "skip",
          "send"]


def intake(client: str) -> list[str]:
    """The standard intake for a client name of the test's own (tests share one server and database)."""
    return INTAKE[:4] + [client] + INTAKE[5:]


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    browser = chromium()
    try:
        yield browser
    finally:
        close(browser)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[WebServer]:
    """One `referbot run` for the module on SQLite; each test is a new visitor (a new session)."""
    workdir = tmp_path_factory.mktemp("web")
    shutil.copy(sqlite_template, workdir / "referbot.db")
    # Every test posts from 127.0.0.1: the per-address limit is tested on a server of its own.
    running = WebServer(workdir, f"sqlite+aiosqlite:///{workdir / 'referbot.db'}",
                        REFERBOT_WEB_POSTS_PER_MINUTE="10000").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def referrer(driver: WebDriver, server: WebServer, request: pytest.FixtureRequest) -> Referrer:
    driver.get(server.base + "/healthz")  # settle what the last test left loading; cookies are per site
    driver.delete_all_cookies()
    return Referrer(driver, server, request.node.name.replace("[", "-").rstrip("]"))


def server_database(server: WebServer) -> Database:
    """The server's database, opened with its key."""
    return Database(server.env["REFERBOT_DATABASE_URL"], Cipher.from_setting(server.env["REFERBOT_ENCRYPTION_KEY"]))


def referrals(server: WebServer, client: str | None = None) -> list[dict[str, Any]]:
    """The web referrals in the server's database (for one client name, if given)."""
    async def read() -> list[dict[str, Any]]:
        database = server_database(server)
        try:
            async with UnitOfWork(database) as uow:
                return [referral_view(r) for r in await uow.referrals.list(limit=1000)]
        finally:
            await database.dispose()

    return [r for r in asyncio.run(read()) if r["channel"] == "web" and client in (None, r["client_name"])]


def post(server: WebServer, body: bytes, *, cookie: str | None = None,
         content_type: str = "application/x-www-form-urlencoded") -> tuple[int, str, dict[str, str]]:
    headers = {"Content-Type": content_type, **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(f"{server.base}/refer", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def finish(referrer: Referrer, answers: list[str]) -> None:
    for answer in answers:
        referrer.answer(answer)


def test_a_whole_referral_in_the_browser(referrer: Referrer, server: WebServer) -> None:
    whole_referral(referrer, server, "J.")


@pytest.mark.postgres
def test_a_whole_referral_on_postgresql(driver: WebDriver, pg_server: Any, pg_template: str, tmp_path: Path) -> None:
    pg_server_psql(pg_server, f"CREATE DATABASE web_intake TEMPLATE {pg_template}")
    on_postgres = WebServer(tmp_path, pg_server.url("web_intake")).start()
    try:
        driver.delete_all_cookies()
        whole_referral(Referrer(driver, on_postgres, "postgresql"), on_postgres, "P.")
    finally:
        on_postgres.stop()


def whole_referral(referrer: Referrer, server: WebServer, client: str) -> None:
    referrer.open()
    assert "Refer a client to Riverbend Counseling Collective" in referrer.text()
    referrer.press("Start the referral")
    assert "name" in referrer.question().lower()
    finish(referrer, intake(client))
    assert "good fit" in referrer.text().lower()
    assert referrer.buttons("main button")[0].text == "Refer another client"
    transcript = referrer.driver.find_element(By.ID, "transcript")  # JavaScript kept the conversation on screen
    assert "Dr. Ann Lee" in transcript.text and "Lakeview Family Medicine" in transcript.text
    [referral] = referrals(server, client)
    assert referral["client_age"] == 34 and referral["source"] == "Dr. Ann Lee" and referral["verdict"] == "good_fit"


def test_without_javascript_the_forms_alone_finish_a_referral(server: WebServer) -> None:
    browser = chromium(javascript=False)
    try:
        person = Referrer(browser, server, "no-javascript")
        person.open()
        person.press("Start the referral")
        finish(person, intake("N."))
        assert browser.find_element(By.ID, "transcript").is_displayed() is False  # no chat log without the script
        assert "Refer another client" in person.text()
    finally:
        close(browser)
    assert len(referrals(server, "N.")) == 1


def test_a_wrong_answer_is_explained_and_asked_again(referrer: Referrer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, INTAKE[:5])
    asked = referrer.question()
    referrer.type("not sure, maybe thirty-ish?")
    assert referrer.question() == asked or "age" in referrer.text().lower()
    assert "age" in referrer.text().lower()
    referrer.type("34")
    assert referrer.question() != asked
    now_asked = referrer.question()
    referrer.driver.refresh()  # a reload shows the same question; nothing is sent again
    assert referrer.question() == now_asked


def test_back_and_edit_change_earlier_answers(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, INTAKE[:6])
    referrer.press("Back")
    assert "old" in referrer.question().lower()
    referrer.type("35")
    finish(referrer, INTAKE[6:-1])
    referrer.press("Change an answer")
    referrer.shot("edit-menu")
    labels = [b.text for b in referrer.buttons()]
    assert labels, referrer.text()
    assert "Client" in labels and "Your name" in labels
    referrer.press("Client")
    referrer.type("Edited E.")
    assert "Edited E." in referrer.text()  # the summary again, with the new answer
    referrer.answer("send")
    [referral] = referrals(server, "Edited E.")
    assert referral["client_age"] == 35


def test_crisis_resources_come_first_and_the_intake_stops(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, ["Kim Park", "other", "kim@example.org", "Crisis C.", "19"])
    referrer.type("he says he wants to end it all")
    crisis = referrer.driver.find_element(By.ID, "crisis")
    assert crisis.get_attribute("role") == "alert" and crisis.is_displayed()
    assert "988" in crisis.text
    main_top = referrer.driver.find_element(By.TAG_NAME, "main").location["y"]
    assert crisis.location["y"] - main_top < 200  # at the top of the page, not under the transcript
    assert not referrer.driver.find_elements(By.ID, "answer")  # nothing more is asked
    referrer.shot("crisis")
    [referral] = referrals(server, "Crisis C.")
    assert referral["crisis"] and referral["verdict"] == "crisis"
    referrer.press("Not an emergency")  # a false alarm: the referral goes on where it stopped
    assert "carry on with the referral" in referrer.text() and referrer.buttons()
    assert not referrer.driver.find_elements(By.ID, "crisis")


def test_a_source_link_credits_the_source(referrer: Referrer, server: WebServer) -> None:
    made = server.cli("sources", "link", "Lincoln High", "--type", "school", "--channel", "web",
                      "--qr", str(server.workdir / "qr.png"))
    assert made.returncode == 0, made.stderr
    link = made.stdout.splitlines()[0]
    assert link.startswith(f"{server.base}/refer?source=lincoln-high-")
    referrer.driver.get(link)
    referrer.shot("source-link")
    referrer.press("Start the referral")
    finish(referrer, ["Ms. Rivera", "school", "Lincoln High", "rivera@lincoln.example"] + intake("S.")[4:])
    [referral] = referrals(server, "S.")
    assert referral["source"] == "Lincoln High"


def test_an_intake_resumes_after_the_server_restarts(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, intake("R.")[:5])
    asked = referrer.question()
    server.stop()
    server.start()
    referrer.driver.refresh()
    referrer.shot("after-restart")
    assert "pick up where we left off" in referrer.text() and referrer.question() == asked
    finish(referrer, INTAKE[5:])
    [referral] = referrals(server, "R.")
    assert referral["source"] == "Dr. Ann Lee" and referral["client_age"] == 34


def test_a_form_posted_before_a_restart_still_counts(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, INTAKE[:2])
    server.stop()
    server.start()  # the page in the browser is from the old process; its form is still good
    referrer.type("Lakeview Family Medicine")
    assert "email" in referrer.text().lower() or "contact" in referrer.text().lower()


HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "{{ 7*7 }} ${7*7} %s %n",
           "Ｒöbert '); DROP TABLE referrals;-- \u202e\u200b"]


def test_hostile_input_is_shown_as_text(referrer: Referrer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    referrer.type(HOSTILE[0])
    referrer.answer("physician")
    referrer.type(HOSTILE[1])
    referrer.type("x@example.org")
    referrer.type(HOSTILE[2])
    referrer.shot("hostile")
    assert not referrer.driver.find_elements(By.CSS_SELECTOR, "main img, main script")
    assert "<img src=x" not in referrer.driver.page_source
    assert HOSTILE[0] in referrer.driver.find_element(By.ID, "transcript").text
    referrer.type("34")
    referrer.type(HOSTILE[3])
    assert referrer.driver.find_elements(By.ID, "question")  # still asking: nothing broke
    with pytest.raises(NoAlertPresentException):  # no script of theirs ran
        referrer.driver.switch_to.alert.text


def test_a_double_submit_counts_once(referrer: Referrer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    referrer.type("Dr. Ann Lee")
    asked = referrer.question()
    fields = referrer.driver.execute_script(
        "var f = document.querySelector('form.answer'); var d = new URLSearchParams(new FormData(f));"
        "d.append('choice', 'physician'); return d.toString();")
    statuses = referrer.driver.execute_async_script(
        "var done = arguments[arguments.length - 1]; var body = arguments[0];"
        "var send = function () { return fetch('/refer', {method: 'POST', body: body, credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/x-www-form-urlencoded'}}).then(function (r) { return r.status; }); };"
        "Promise.all([send(), send()]).then(done);", fields)
    assert statuses == [200, 200]
    referrer.driver.get(referrer.server.base + "/refer")
    referrer.shot("after-double-submit")
    assert referrer.question() != asked
    referrer.press("Back")
    assert referrer.question() == asked  # one step back is the role question: the answer counted once


def web_answers(server: WebServer) -> list[dict[str, Any]]:
    """The answers of every web intake in progress in the server's database."""
    async def read() -> list[dict[str, Any]]:
        database = server_database(server)
        try:
            async with database.sessions() as session:
                rows = (await session.execute(select(Conversation).where(Conversation.channel == "web"))).scalars()
                return [dict(row.answers) for row in rows]
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_characters_the_database_cannot_hold_are_cleaned_in_the_core(referrer: Referrer, server: WebServer) -> None:
    """A NUL (which PostgreSQL refuses) and control characters posted from the page are dropped where
    every channel's input enters the core: the answer counts, nothing breaks. (A browser itself turns
    a lone surrogate into U+FFFD before posting; the core's own test covers surrogates.)"""
    referrer.open()
    referrer.press("Start the referral")
    referrer.open()  # a settled page: nothing of the press may still be navigating when the post below runs
    asked = referrer.question()
    name = "Dr. Nul" + "".join(secrets.choice("abcdefghij") for _ in range(8))
    fields = referrer.driver.execute_script(
        "var d = new URLSearchParams(new FormData(document.querySelector('form.answer')));"
        "d.set('text', arguments[0] + String.fromCharCode(0) + ' Lee' + String.fromCharCode(7));"
        "return d.toString();", name)
    status = referrer.driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch('/refer', {method: 'POST', body: arguments[0], credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/x-www-form-urlencoded'}}).then(function (r) { done(r.status); });",
        fields)
    assert status == 200
    referrer.driver.get(referrer.server.base + "/refer")
    referrer.shot("cleaned")
    assert referrer.question() != asked  # the answer counted: on to the next question
    stored = [value for answers in web_answers(server) for value in answers.values() if str(value).startswith(name)]
    assert stored == [f"{name} Lee"]


def test_forged_malformed_and_oversized_posts_are_refused(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    cookie = "referbot_session=" + referrer.driver.get_cookie("referbot_session")["value"]
    turn = "t" * 22
    status, body, _ = post(server, f"turn={turn}&command=start".encode(), cookie=cookie)
    assert status == 400 and "reload" in body  # no CSRF token
    status, body, _ = post(server, f"csrf=forged&turn={turn}&command=start".encode(), cookie=cookie)
    assert status == 403
    status, _, _ = post(server, f"csrf=x&turn={turn}&command=start".encode())  # no session cookie
    assert status == 403
    status, _, _ = post(server, b"\xff\xfe", cookie=cookie)
    assert status == 400
    status, _, _ = post(server, json.dumps({"text": "hi"}).encode(), cookie=cookie, content_type="application/json")
    assert status == 415
    status, body, _ = post(server, b"text=" + b"a" * 20_000, cookie=cookie)
    assert status == 413
    status, _, headers = post(server, f"csrf=x&turn={turn}&command=fly".encode(), cookie=cookie)
    assert status == 400 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_guidelines_page_is_linkable_and_printable(referrer: Referrer) -> None:
    referrer.open("/guidelines")
    text = referrer.text()
    assert "Referral guidelines" in text and "Clinicians" in text and "Office hours" in text
    referrer.driver.find_element(By.LINK_TEXT, "Refer a client").click()
    assert "Refer a client to" in referrer.text()


def test_posts_are_rate_limited_per_address(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "referbot.db")
    limited = WebServer(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'referbot.db'}",
                        REFERBOT_WEB_POSTS_PER_MINUTE="3").start()
    try:
        with urllib.request.urlopen(f"{limited.base}/refer", timeout=20) as page:
            cookie = page.headers["Set-Cookie"].split(";")[0]
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.read().decode()).group(1)
        statuses = [post(limited, f"csrf={csrf}&turn={'t' * 21}{n}&command=start".encode(), cookie=cookie)
                    for n in range(4)]
    finally:
        limited.stop()
    assert [status for status, _, _ in statuses] == [200, 200, 200, 429]
    assert statuses[-1][2]["Retry-After"] == "60" and "wait a minute" in statuses[-1][1]


def test_cancel_and_start_over(referrer: Referrer, server: WebServer) -> None:
    referrer.open()
    referrer.press("Start the referral")
    finish(referrer, intake("Cancelled C.")[:6])
    referrer.press("Start over")
    assert "name" in referrer.question().lower()
    finish(referrer, intake("Cancelled C.")[:3])
    referrer.press("Cancel this referral")
    assert not referrer.driver.find_elements(By.ID, "answer")
    referrer.press("Refer another client")
    assert "name" in referrer.question().lower()
    assert referrals(server, "Cancelled C.") == []  # nothing was sent
