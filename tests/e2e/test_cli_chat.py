"""The console channel through the real `referbot` command: whole intakes, kill -9, identities."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli import JsonlChat, referbot

INTAKE = [{"text": "Dr. Ann Lee"}, {"choice": "physician"}, {"text": "Lakeview Family Medicine"},
          {"text": "ann.lee@lakeview.example"}, {"text": "J."}, {"text": "34"},
          {"text": "panic attacks, not sleeping, worried all the time"}, {"choice": "none_known"},
          {"choice": "__skip"},
          {"choice": "individual"}, {"choice": "either"}, {"text": "skip"}, {"choice": "routine"},
          {"choice": "insurance"}, {"text": "Aetna"}, {"choice": "yes"}, {"text": "(312) 555-0100"},
          {"choice": "yes"}, {"text": "prefers mornings"}]


def test_whole_intake_over_jsonl(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(item) for item in [*INTAKE, {"choice": "submit"}]) + "\n"
    result = referbot(tmp_path, "chat", "--jsonl", "--as", "ann", input=lines)
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == len(INTAKE) + 2  # start + one per input
    assert outputs[0]["step"] == "referrer_name" and outputs[0]["state"] == "asking"
    assert [c["id"] for c in outputs[1]["messages"][-1]["choices"]][:2] == ["physician", "therapist"]
    last = outputs[-1]
    assert last["state"] == "done" and last["step"] is None and isinstance(last["referral_id"], int)
    assert last["verdict"] in ("good_fit", "possible_fit")
    assert "Dr. Maya Okafor" in last["messages"][-1]["text"] or "fit" in last["messages"][-1]["text"]

    shown = json.loads(referbot(tmp_path, "referrals", "show", str(last["referral_id"]), "--json").stdout)
    assert shown["client_name"] == "J." and shown["client_contact"] == "(312) 555-0100"
    assert "anxiety" in [i["id"] for i in shown["issues"]] and shown["source"] == "Dr. Ann Lee"
    listed = json.loads(referbot(tmp_path, "referrals", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [last["referral_id"]] and "client_contact" not in listed[0]
    sources = json.loads(referbot(tmp_path, "sources", "list", "--json").stdout)
    assert [(s["name"], s["type"]) for s in sources] == [("Dr. Ann Lee", "physician")]


def test_killed_mid_intake_resumes_exactly_where_it_was(tmp_path: Path) -> None:
    chat = JsonlChat(tmp_path, "ann")
    for item in INTAKE[:7]:
        reply = chat.send(item)
    assert reply["step"] == "current_risk"
    chat.kill()  # SIGKILL: no chance to clean up

    chat = JsonlChat(tmp_path, "ann")
    assert chat.first["step"] == "current_risk"
    assert "pick up where we left off" in chat.first["messages"][0]["text"]
    for item in INTAKE[7:]:
        reply = chat.send(item)
    assert reply["step"] == "confirm"
    summary = reply["messages"][-1]["text"]
    assert "Dr. Ann Lee" in summary and "panic attacks" in summary  # nothing lost
    done = chat.send({"choice": "submit"})
    assert done["state"] == "done" and chat.close() == 0


def test_two_referrers_are_told_apart_and_a_returning_one_is_recognised(tmp_path: Path) -> None:
    script = "\n".join(json.dumps(item) for item in [*INTAKE, {"choice": "submit"}]) + "\n"
    assert referbot(tmp_path, "chat", "--jsonl", "--as", "ann", input=script).returncode == 0
    other = json.loads(referbot(tmp_path, "chat", "--jsonl", "--as", "bo", input="").stdout.splitlines()[0])
    assert other["step"] == "referrer_name"
    again = json.loads(referbot(tmp_path, "chat", "--jsonl", "--as", "ann", input="").stdout.splitlines()[0])
    assert again["step"] == "client_name" and "Welcome back, Dr. Ann Lee" in again["messages"][0]["text"]


def test_commands_and_bad_lines(tmp_path: Path) -> None:
    script = "\n".join([json.dumps({"text": "Sam"}), json.dumps({"command": "back"}), "not json",
                        json.dumps({"command": "help"}), json.dumps({"command": "cancel"})]) + "\n"
    result = referbot(tmp_path, "chat", "--jsonl", "--as", "sam", input=script)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[2]["step"] == "referrer_name"  # back
    assert "error" in out[3]
    assert "/back" in out[4]["messages"][0]["text"]
    assert out[5]["state"] == "cancelled" and result.returncode == 0


def test_crisis_over_jsonl_shows_resources_and_records_it(tmp_path: Path) -> None:
    script = "\n".join(json.dumps(i) for i in [*INTAKE[:6], {"text": "she told me she wants to kill herself"}])
    out = [json.loads(line) for line in referbot(tmp_path, "chat", "--jsonl", "--as", "c",
                                                 input=script + "\n").stdout.splitlines()]
    assert out[-1]["state"] == "crisis" and out[-1]["verdict"] == "crisis"
    assert "988" in out[-1]["messages"][0]["text"] and "not an emergency service" in out[-1]["messages"][0]["text"]
    listed = json.loads(referbot(tmp_path, "referrals", "list", "--json").stdout)
    assert listed[0]["crisis"] is True
