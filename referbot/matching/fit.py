"""Fit of a referral against the practice profile, with reasons a therapist and a referrer can read.

Each clinician is judged on every fact the intake gathered; a fact the referrer skipped (None) is
never held against the client. A hard mismatch (age, format, an issue the clinician does not
treat, language, closed caseload, no way to pay) makes a clinician "not a fit"; a soft one (issue
outside the listed specialties, out-of-network insurance, waitlist) makes them "possible". The
practice's verdict is its best clinician's; when nobody fits, trusted colleagues whose
specialties match the issues are suggested.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from referbot.domain import ClinicianFit, Colleague, FitAssessment, FitVerdict, IntakeFacts
from referbot.profile import AgeRange, Availability, Clinician, Profile

Label = Callable[[str], str]

_RANK = {FitVerdict.GOOD_FIT: 0, FitVerdict.POSSIBLE_FIT: 1, FitVerdict.NOT_A_FIT: 2}
_SIMILAR = 85  # rapidfuzz token-set ratio at which two names (insurers, languages, specialties) agree
_FORMAT_WORDS = {"individual": "individual therapy", "couples": "couples therapy",
                 "family": "family therapy", "group": "group therapy"}
_MODALITY_WORDS = {"in_person": "in-person sessions", "telehealth": "telehealth"}


@dataclass
class _Judgement:
    """What one clinician's checks found: hard blockers, soft cautions, and strengths."""

    blockers: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> FitVerdict:
        if self.blockers:
            return FitVerdict.NOT_A_FIT
        return FitVerdict.POSSIBLE_FIT if self.cautions else FitVerdict.GOOD_FIT

    @property
    def score(self) -> float:
        return max(0.0, min(100.0, 70.0 + 10 * len(self.strengths) - 15 * len(self.cautions)
                            - 40 * len(self.blockers)))


def assess_fit(profile: Profile, facts: IntakeFacts, label: Label) -> FitAssessment:
    issues = _issue_ids(facts)
    judged = [(c, _judge(c, profile, facts, issues, label)) for c in profile.clinicians]
    ranked = sorted(judged, key=lambda cj: (_RANK[cj[1].verdict], -cj[1].score))
    clinicians = tuple(ClinicianFit(c.name, j.verdict, j.score, (*j.strengths, *j.blockers, *j.cautions))
                       for c, j in ranked)
    best = clinicians[0]
    if best.verdict is FitVerdict.NOT_A_FIT:
        return FitAssessment(FitVerdict.NOT_A_FIT, _practice_blockers(ranked, facts.age), clinicians,
                             _colleagues(profile, issues), issues_recognised=bool(issues))
    if not issues:  # nothing to judge the fit on: a clinician reads it, it is never "good fit"
        return FitAssessment(FitVerdict.POSSIBLE_FIT, ("no presenting issue recognised in the description",),
                             clinicians, issues_recognised=False)
    return FitAssessment(best.verdict, _with_name(best), clinicians)


def _issue_ids(facts: IntakeFacts) -> list[str]:
    seen: dict[str, None] = {}
    for match in sorted(facts.issues, key=lambda m: -m.score):
        seen.setdefault(match.id, None)
    return list(seen)


def _judge(clinician: Clinician, profile: Profile, facts: IntakeFacts, issues: list[str], label: Label) -> _Judgement:
    judgement = _Judgement()
    _check_issues(judgement, clinician, profile, issues, label)
    _check_age(judgement, clinician, facts.age)
    _check_format(judgement, clinician, facts.therapy_format)
    _check_modality(judgement, clinician, facts.modality)
    _check_payment(judgement, clinician, facts.payment, facts.insurance_name)
    _check_language(judgement, clinician, facts.language)
    _check_availability(judgement, clinician)
    return judgement


def _check_issues(j: _Judgement, clinician: Clinician, profile: Profile, issues: list[str], label: Label) -> None:
    specialties = {_specialty_id(s, profile, label) for s in clinician.specialties}
    refused = {_specialty_id(s, profile, label) for s in clinician.not_accepted}
    treated = [i for i in issues if i in specialties and i not in refused]
    if treated:
        j.strengths.append(f"specialises in {_join(label(i).lower() for i in treated)}")
    for issue in issues:
        if issue in refused:
            j.blockers.append(f"does not treat {label(issue).lower()}")
    others = [i for i in issues if i not in specialties and i not in refused]
    if others:
        j.cautions.append(f"{_join(label(i).lower() for i in others)}: not a listed specialty")


def _check_age(j: _Judgement, clinician: Clinician, age: int | None) -> None:
    if age is None:
        return
    if clinician.ages.contains(age):
        j.strengths.append(f"sees ages {clinician.ages.describe()}")
    else:
        j.blockers.append(f"age {age}: sees {clinician.ages.describe()}")


def _check_format(j: _Judgement, clinician: Clinician, therapy_format: str | None) -> None:
    if therapy_format is None:
        return
    if therapy_format in {f.value for f in clinician.formats}:
        j.strengths.append(f"offers {_FORMAT_WORDS.get(therapy_format, therapy_format)}")
    else:
        j.blockers.append(f"does not offer {_FORMAT_WORDS.get(therapy_format, therapy_format)}")


def _check_modality(j: _Judgement, clinician: Clinician, modality: str | None) -> None:
    if modality is None or modality == "either":
        return
    if modality not in {m.value for m in clinician.modalities}:
        j.blockers.append(f"does not offer {_MODALITY_WORDS.get(modality, modality)}")


def _check_payment(j: _Judgement, clinician: Clinician, payment: str | None, insurer: str | None) -> None:
    terms = clinician.payment
    if payment == "insurance" and insurer:
        panel = next((p for p in terms.insurance_panels if _same_insurer(insurer, p)), None)
        if panel:
            j.strengths.append(f"in network with {panel}")
        elif terms.private_pay:
            j.cautions.append(f"not in network with {insurer}; private pay{_fee(terms.fee)} (out of network)")
        else:
            j.blockers.append(f"not in network with {insurer}")
    elif payment == "insurance" and not terms.insurance_panels:
        j.cautions.append("takes no insurance" + (f"; private pay{_fee(terms.fee)}" if terms.private_pay else ""))
    elif payment == "private_pay" and not terms.private_pay:
        j.blockers.append("does not take private pay")
    elif payment == "sliding_scale":
        if terms.sliding_scale:
            j.strengths.append("offers a sliding scale")
        else:
            j.cautions.append(f"no sliding scale{_fee(terms.fee)}")


def _check_language(j: _Judgement, clinician: Clinician, language: str | None) -> None:
    if not language:
        return
    if any(_similar(language, spoken) for spoken in clinician.languages):
        if not _similar(language, "English"):
            j.strengths.append(f"speaks {language.strip().title()}")
    else:
        j.blockers.append(f"does not speak {language.strip().title()}")


def _check_availability(j: _Judgement, clinician: Clinician) -> None:
    if clinician.availability is Availability.CLOSED:
        j.blockers.append("not taking new clients")
    elif clinician.availability is Availability.WAITLIST:
        weeks = f" (about {clinician.waitlist_weeks} weeks)" if clinician.waitlist_weeks else ""
        j.cautions.append(f"waitlist{weeks}")
    else:
        j.strengths.append("accepting new clients")


def _specialty_id(specialty: str, profile: Profile, label: Label) -> str:
    """A profile specialty as an issue id: a taxonomy id, a custom id, or a custom label/phrase."""
    wanted = specialty.strip()
    for custom in profile.custom_specialties:
        if wanted == custom.id or _similar(wanted, custom.label) or any(_similar(wanted, p) for p in custom.phrases):
            return custom.id
    if label(wanted) != _humanised(wanted):
        return wanted
    slug = re.sub(r"[^a-z0-9]+", "_", wanted.lower()).strip("_")
    return slug


def _humanised(issue_id: str) -> str:
    return issue_id.replace("_", " ").strip().capitalize()


def _same_insurer(given: str, panel: str) -> bool:
    """Fuzzy, and by initials, so "BCBS" or "blue cross" finds "Blue Cross Blue Shield"."""
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", panel)).lower()
    compact = re.sub(r"[^a-z]", "", given.lower())
    return _similar(given, panel) or (len(compact) >= 2 and compact == initials) or \
        fuzz.partial_ratio(given.lower(), panel.lower()) >= 90 and len(given) >= 4


def _similar(a: str, b: str) -> bool:
    return fuzz.token_set_ratio(a.lower(), b.lower()) >= _SIMILAR


def _fee(fee: str | None) -> str:
    return f" ({fee})" if fee else ""


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _with_name(fit: ClinicianFit) -> tuple[str, ...]:
    """The clinician's reasons on one line under their name, so the name is not repeated."""
    return (f"{fit.name}: {'; '.join(fit.reasons)}",) if fit.reasons else ()


def _practice_blockers(ranked: list[tuple[Clinician, _Judgement]], age: int | None) -> tuple[str, ...]:
    """Reasons true of every clinician read as the practice's; the rest are named per clinician."""
    reasons: list[str] = []
    age_blocked = age is not None and all(not c.ages.contains(age) for c, _ in ranked)
    if age_blocked:
        seen = AgeRange(min=min(c.ages.min for c, _ in ranked), max=max(c.ages.max for c, _ in ranked))
        reasons.append(f"age {age}: practice sees {seen.describe()}")
    shared = set.intersection(*(set(j.blockers) for _, j in ranked))
    reasons += [b for b in ranked[0][1].blockers if b in shared and not (age_blocked and b.startswith("age "))]
    for clinician, judgement in ranked:
        own = [b for b in judgement.blockers if b not in shared and not (age_blocked and b.startswith("age "))]
        if own:
            reasons.append(f"{clinician.name}: {'; '.join(own)}")
    return tuple(dict.fromkeys(reasons))


def _colleagues(profile: Profile, issues: list[str]) -> tuple[Colleague, ...]:
    wanted = set(issues)
    return tuple(Colleague(c.name, tuple(c.specialties), c.contact.one_line()) for c in profile.colleagues
                 if wanted & set(c.specialties))
