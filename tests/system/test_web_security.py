"""The dashboard's doors over plain HTTP on a real center: sessions, roles, CSRF, lock-out, audit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from servers import Center, fresh_postgres_database, run_center
from webkit import ADMIN, VIEWER, add_accounts, csrf_of, sign_in_http

from kiosk.center.db import Database
from kiosk.center.web.accounts import LOCK_AFTER, audit_trail

pytestmark = pytest.mark.slow

PAGES = (
    "/web/",
    "/web/cases",
    "/web/completeness",
    "/web/search",
    "/web/daily",
    "/web/notices",
    "/web/roster",
    "/web/audit",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def center(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """The center on SQLite, then on PostgreSQL (the dashboard's own tables on both)."""
    workdir = tmp_path_factory.mktemp("web-security")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{workdir / 'center.db'}"
        else:
            url = stack.enter_context(fresh_postgres_database(request.getfixturevalue("postgres_url")))
        add_accounts(url)
        yield stack.enter_context(run_center(url, workdir))


def signed_in(center: Center, who: tuple[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=center.url)
    response = sign_in_http(client, center.url, *who)
    assert response.status_code == 303 and response.headers["location"] == "/web/", response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    return client


@pytest.mark.parametrize("page", [*PAGES, "/web/daily.xlsx", "/web/live/overview", "/"])
def test_without_a_session_every_page_sends_to_sign_in(center: Center, page: str) -> None:
    response = httpx.get(f"{center.url}{page}")
    assert response.status_code in (303, 307)
    target = response.headers["location"]
    if page == "/":
        assert target == "/web/"
        return
    assert target.startswith("/web/signin?next=")


def test_station_and_admin_tokens_do_not_open_the_pages(center: Center) -> None:
    station_token = center.add_station("gate-token")
    for token in (station_token, center.admin_token):
        response = httpx.get(f"{center.url}/web/", headers=center.auth(token))
        assert response.status_code == 303 and response.headers["location"].startswith("/web/signin")
    # ...nor sign in as a name: there is no account behind a token.
    client = httpx.Client(base_url=center.url)
    assert sign_in_http(client, center.url, "gate-token", station_token).status_code == 401


def test_signed_in_pages_answer_and_the_api_ignores_the_session(center: Center) -> None:
    client = signed_in(center, ADMIN)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:500])
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/api/v1/admin/completeness").status_code == 401
    client.get("/web/lang/en")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200 and "Sign out" in response.text and "退出" not in response.text, page


def test_a_viewer_cannot_unmask_publish_or_upload(center: Center) -> None:
    viewer = signed_in(center, VIEWER)
    csrf = csrf_of(viewer.get("/web/search").text)
    unmask = viewer.post("/web/search/unmask", data={"csrf": csrf, "kind": "person", "person_id": "2023000101"})
    publish = viewer.post("/web/notices", data={"csrf": csrf, "title": "通知", "url": "https://www.bnu.edu.cn/a.html"})
    upload = viewer.post(
        "/web/roster/upload",
        data={"csrf": csrf},
        files={"file": ("r.csv", b"person_id,name,role\n2023000199,X,student\n", "text/csv")},
    )
    for response in (unmask, publish, upload):
        assert response.status_code == 403 and "管理员" in response.text
    admin = signed_in(center, ADMIN)
    assert "2023000199" not in admin.get("/web/roster").text
    assert "www.bnu.edu.cn/a.html" not in admin.get("/web/notices").text
    unmasking = [row for row in audit_trail(Database(center.db_url)) if row["action"] == "unmask"]
    assert all(row["username"] != VIEWER[0] for row in unmasking)


def test_a_form_without_its_csrf_token_is_refused(center: Center) -> None:
    admin = signed_in(center, ADMIN)
    page = admin.get("/web/notices").text
    body = {"title": "通知", "url": "https://www.bnu.edu.cn/csrf.html"}
    assert admin.post("/web/notices", data=body).status_code == 403
    assert admin.post("/web/notices", data={**body, "csrf": "x" + csrf_of(page)}).status_code == 403
    assert "csrf.html" not in admin.get("/web/notices").text
    accepted = admin.post("/web/notices", data={**body, "csrf": csrf_of(page)})
    assert accepted.status_code == 303
    assert "csrf.html" in admin.get("/web/notices").text
    # The sign-in form has its own token: a post without it (from another site) signs nobody in.
    bare = httpx.post(f"{center.url}/web/signin", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert bare.status_code == 403 and "kiosk_session" not in bare.headers.get("set-cookie", "")


def test_ten_wrong_passwords_lock_the_account(center: Center, tmp_path: Path) -> None:
    db = Database(center.db_url)
    from kiosk.center.web.accounts import add_user

    add_user(db, "mallory-target", "viewer", "the-right-password")
    client = httpx.Client(base_url=center.url)
    for attempt in range(1, LOCK_AFTER + 1):
        response = sign_in_http(client, center.url, "mallory-target", f"guess-{attempt}")
        assert response.status_code == (429 if attempt == LOCK_AFTER else 401), attempt
    locked = sign_in_http(client, center.url, "mallory-target", "the-right-password")
    assert (
        locked.status_code == 429
        and "锁定" in locked.text
        and "kiosk_session" not in locked.headers.get("set-cookie", "")
    )
    actions = [row["action"] for row in audit_trail(db) if row["username"] == "mallory-target"]
    assert actions.count("sign-in-failed") == LOCK_AFTER and "sign-in-locked" in actions
    assert "sign-in" not in actions
    # Another account is not affected.
    assert sign_in_http(httpx.Client(), center.url, *VIEWER).status_code == 303


def test_sign_out_ends_the_session(center: Center) -> None:
    client = signed_in(center, VIEWER)
    csrf = csrf_of(client.get("/web/").text)
    assert client.post("/web/signout", data={"csrf": csrf}).status_code == 303
    assert client.get("/web/").status_code == 303


def test_sign_in_never_redirects_elsewhere(center: Center) -> None:
    client = httpx.Client(base_url=center.url)
    form = client.get("/web/signin", params={"next": "https://evil.example/"})
    assert "evil.example" not in form.text
    body = {"username": VIEWER[0], "password": VIEWER[1], "csrf": csrf_of(form.text), "next": "//evil.example/"}
    assert client.post("/web/signin", data=body).headers["location"] == "/web/"


def test_a_notice_off_the_allowlist_is_refused_and_not_stored(center: Center) -> None:
    admin = signed_in(center, ADMIN)
    csrf = csrf_of(admin.get("/web/notices").text)
    for url in ("https://evil.example/bnu.edu.cn.html", "http://www.bnu.edu.cn/plain-http.html"):
        refused = admin.post("/web/notices", data={"csrf": csrf, "title": "假通知", "url": url})
        assert refused.status_code == 422 and 'id="notice-error"' in refused.text and "未发布" in refused.text
        assert url in refused.text  # the form keeps what was typed
        assert all(
            url != n["url"] for n in httpx.get(f"{center.url}/api/v1/notices", headers=center.admin).json()["notices"]
        )


def test_a_roster_with_bad_rows_cannot_replace_the_whole_roster(center: Center) -> None:
    admin = signed_in(center, ADMIN)
    csrf = csrf_of(admin.get("/web/roster").text)
    body = "person_id,name,role\n2023000301,好人,student\n2023000302,坏行,wizard\n".encode()
    response = admin.post(
        "/web/roster/upload",
        data={"csrf": csrf, "replace": "true"},
        files={"file": ("名单.csv", body, "text/csv")},
    )
    assert response.status_code == 422 and "roster-confirm" not in response.text
    assert "名单.csv" in response.text and "第 3 行 / line 3" in response.text  # the bad row named by its line
    assert "/tmp" not in response.text  # the server's scratch path is never shown


def test_completeness_shows_gaps_and_damaged_numbers_as_the_api_does(center: Center) -> None:
    from syncstations import gate_entry

    token = center.add_station("gate-gappy", "缺号门", "海淀校园")
    batch = [replace(gate_entry("gate-gappy", n), seq=seq) for n, seq in enumerate((1, 2, 5, 9))]
    pushed = httpx.post(
        f"{center.url}/api/v1/stations/gate-gappy/entries",
        headers=center.auth(token),
        json={"entries": [entry.to_dict() for entry in batch]},
    )
    assert pushed.status_code == 200, pushed.text
    lost = httpx.post(
        f"{center.url}/api/v1/stations/gate-gappy/damaged", headers=center.auth(token), json={"seqs": [3, 4]}
    )
    assert lost.status_code == 200, lost.text
    page = signed_in(center, VIEWER).get("/web/completeness").text
    row = page[page.index('id="completeness-gate-gappy"') :].split("</tr>")[0]
    gaps = row.split('class="gaps">')[1].split("</td>")[0]
    damaged = row.split('class="damaged">')[1].split("</td>")[0]
    assert (gaps, damaged) == ("6–8", "3–4")
