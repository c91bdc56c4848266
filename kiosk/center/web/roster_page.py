"""Roster: upload a CSV or XLSX (read by kiosk.roster_file, as `kiosk center import-roster` does), see the dry run
(added, removed, changed, unchanged, problems by line), then confirm. Nothing changes before the confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from kiosk.center import roster
from kiosk.center.web import accounts
from kiosk.center.web.session import PREFIX, Admin, Signed, address, check_csrf, database, language, render
from kiosk.center.web.text import translate
from kiosk.domain.models import Person
from kiosk.domain.roster_file import RosterFileError, plan_import, read_roster_data

router = APIRouter(prefix=PREFIX)
MAX_UPLOAD = 20 * 1024 * 1024
SHOWN = 200
"""People listed per group of the dry run; the rest are counted."""


def changed_fields(before: Person, after: Person) -> list[str]:
    """The roster fields an import changes for one person."""
    return [name for name in roster.FIELDS if getattr(before, name) != getattr(after, name)]


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
    name = Path(file.filename or "roster").name
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _error(request, session, f"{name}: > {MAX_UPLOAD // 1024 // 1024} MB")
    try:
        found = read_roster_data(data, name)
    except RosterFileError as exc:
        return _error(request, session, str(exc))
    # The same reader and the same refusals as `kiosk center import-roster` (kiosk.domain.roster_file).
    plan = plan_import(found, roster.current_people(db), replace)
    if plan.refusal is not None:
        return _error(request, session, f"{name}: {plan.refusal}", [str(p) for p in found.problems])
    changed = [(after, changed_fields(before, after)) for before, after in plan.diff.changed]
    staged = accounts.stage_roster(db, session.user.username, found.people, replace)
    return render(
        request,
        "roster.html",
        session,
        plan=plan.diff,
        changed=changed,
        problems_found=found.problems,
        staged=staged,
        name=name,
        replace=replace,
        shown=SHOWN,
    )


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
