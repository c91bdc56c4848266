"""Roster: upload a CSV or XLSX (read by kiosk.roster_file, as `kiosk center import-roster` does), see the dry run
(added, removed, changed, unchanged, problems by line), then confirm. Nothing changes before the confirmation."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from kiosk.center import roster
from kiosk.center.web import accounts
from kiosk.center.web.session import PREFIX, Admin, Signed, address, check_csrf, database, language, render
from kiosk.center.web.text import translate
from kiosk.domain.models import Person
from kiosk.domain.roster_file import RosterFileError, read_roster_file

router = APIRouter(prefix=PREFIX)
MAX_UPLOAD = 20 * 1024 * 1024
SHOWN = 200
"""People listed per group of the dry run; the rest are counted."""


@dataclass
class DryRun:
    """What confirming an upload would do to the center's roster."""

    added: list[Person] = field(default_factory=list)
    removed: list[Person] = field(default_factory=list)
    changed: list[tuple[Person, list[str]]] = field(default_factory=list)
    """Each with the fields that change."""
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def dry_run(current: list[Person], incoming: list[Person], replace: bool, problems: list[str]) -> DryRun:
    known = {person.person_id: person for person in current}
    result = DryRun(problems=problems)
    for person in incoming:
        before = known.get(person.person_id)
        if before is None:
            result.added.append(person)
            continue
        differs = [name for name in roster.FIELDS if getattr(before, name) != getattr(person, name)]
        if differs:
            result.changed.append((person, differs))
        else:
            result.unchanged += 1
    if replace:
        listed = {person.person_id for person in incoming}
        result.removed = [person for person in current if person.person_id not in listed]
    return result


@router.get("/roster")
def roster_page(request: Request, session: Signed) -> Response:
    return render(request, "roster.html", session, version=roster.current_version(database(request)))


@router.post("/roster/upload")
def upload(
    request: Request,
    session: Admin,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    replace: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(session, csrf)
    db = database(request)
    lang = language(request)
    name = Path(file.filename or "roster").name
    with tempfile.TemporaryDirectory(prefix="kiosk-roster-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as saved:
            shutil.copyfileobj(file.file, saved, 1 << 20)
        if path.stat().st_size > MAX_UPLOAD:
            return _error(request, session, f"{name}: > {MAX_UPLOAD // 1024 // 1024} MB")
        try:
            found = read_roster_file(path)
        except RosterFileError as exc:
            return _error(request, session, str(exc).replace(str(path), name))
    problems = [str(problem).replace(str(path), name) for problem in found.problems]
    if not found.people:
        return _error(request, session, f"{name}: {translate('roster.nothing', lang)}", problems)
    if replace and problems:
        return _error(request, session, f"{name}: {translate('roster.replace_problems', lang)}", problems)
    plan = dry_run(roster.changes_since(db, 0).people, found.people, replace, problems)
    staged = accounts.stage_roster(db, session.user.username, found.people, replace)
    return render(request, "roster.html", session, plan=plan, staged=staged, name=name, replace=replace, shown=SHOWN)


def _error(request: Request, session: accounts.Session, error: str, problems: list[str] | None = None) -> Response:
    version = roster.current_version(database(request))
    return render(request, "roster.html", session, 422, error=error, problems=problems or [], version=version)


@router.post("/roster/confirm")
def confirm(
    request: Request, session: Admin, csrf: Annotated[str, Form()] = "", staged: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(session, csrf)
    db = database(request)
    taken = accounts.take_staged_roster(db, staged, session.user.username)
    if taken is None:
        return _error(request, session, translate("roster.expired", language(request)))
    people, replace = taken
    version, changed = roster.update(db, people, replace)
    detail = f"version {version}: {changed} changed of {len(people)}{' (replace)' if replace else ''}"
    accounts.record(db, session.user.username, "roster-import", detail, address(request))
    done = translate("roster.done", language(request), version=version, changed=changed)
    return render(request, "roster.html", session, done=done, version=version)
