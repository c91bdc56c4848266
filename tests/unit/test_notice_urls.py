"""kiosk/domain/notices.py: only authoritative https URLs pass; local notices, staleness and rotation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.domain.models import Notice
from kiosk.domain.notices import (
    MAX_URL_LENGTH,
    NoticeRefused,
    make_local_notice,
    notice_problem,
    rotation_index,
    showable,
    sort_out,
    stale_since,
    title_problem,
    url_problem,
)
from storage.notices import NoticeStore

ALLOWED = ("bnu.edu.cn",)

ACCEPTED = [
    "https://bnu.edu.cn",
    "https://bnu.edu.cn/",
    "https://www.bnu.edu.cn/tzgg/2026/1128.html",
    "https://news.bnu.edu.cn/zx/index.htm?id=42&lang=zh#top",
    "https://a.b.c.bnu.edu.cn/x",
    "HTTPS://WWW.BNU.EDU.CN/X",
    "https://www.bnu.edu.cn/%E9%80%9A%E7%9F%A5",
    "https://www.bnu.edu.cn/a@b",  # an @ in the path is not a user name
    "https://bnu.edu.cn/" + "a" * (MAX_URL_LENGTH - 19),
]

REFUSED = [
    ("", "empty"),
    ("https://bnu.edu.cn/" + "a" * (MAX_URL_LENGTH - 18), "too long"),
    ("http://bnu.edu.cn/", "https"),
    ("ftp://bnu.edu.cn/", "https"),
    ("javascript:alert(1)//bnu.edu.cn", "https"),
    ("//bnu.edu.cn/x", "https"),
    ("bnu.edu.cn/x", "https"),
    ("https:bnu.edu.cn/x", "https"),
    ("https://", "no host"),
    ("https:///x", "no host"),
    ("https://?x=bnu.edu.cn", "no host"),
    ("https://bnu.edu.cn.evil.com/", "not an authoritative"),
    ("https://evilbnu.edu.cn/", "not an authoritative"),
    ("https://bnu-edu.cn/", "not an authoritative"),
    ("https://edu.cn/", "not an authoritative"),
    ("https://evil.com/bnu.edu.cn", "not an authoritative"),
    ("https://evil.com?.bnu.edu.cn", "not an authoritative"),
    ("https://evil.com#.bnu.edu.cn", "not an authoritative"),
    ("https://bnu.edu.cn@evil.com/", "user name"),
    ("https://user:pass@bnu.edu.cn/", "user name"),
    ("https://bnu.edu.cn:@evil.com/", "user name"),
    ("https://bnu.edu.cn:443/", "port"),
    ("https://bnu.edu.cn:8443/", "port"),
    ("https://bnu.edu.cn:/", "port"),
    ("https://bnu.edu.cn\\@evil.com/", "backslashes"),
    ("https://evil.com\\.bnu.edu.cn/", "backslashes"),
    ("https://bnu.edu.cn /x", "whitespace"),
    (" https://bnu.edu.cn/", "whitespace"),
    ("https://bnu.edu.cn/\n", "whitespace"),
    ("https://bnu.edu.cn/\tx", "whitespace"),
    ("https://bnu.edu.cn/\x00", "control"),
    ("https://bnu.edu.cn/\x7f", "control"),
    ("https://bnu.edu.cn\u200b/", "non-ASCII"),
    ("https://bnu.edu.cn/通知", "non-ASCII"),
    ("https://bnü.edu.cn/", "non-ASCII"),
    ("https://bnu.еdu.cn/", "non-ASCII"),  # Cyrillic е
    ("https://ｂｎｕ.edu.cn/", "non-ASCII"),  # full-width letters
    ("https://bnu。edu。cn/", "non-ASCII"),  # ideographic full stops
    ("https://xn--bn-wka.edu.cn/", "xn--"),
    ("https://xn--www-x.bnu.edu.cn/", "xn--"),
    ("https://bnu.edu.cn./", "malformed"),
    ("https://.bnu.edu.cn/", "malformed"),
    ("https://www..bnu.edu.cn/", "malformed"),
    ("https://-x.bnu.edu.cn/", "malformed"),
    ("https://x_y.bnu.edu.cn/", "malformed"),
    ("https://%62nu.edu.cn/", "malformed"),
    ("https://[::1]/", "malformed"),
    ("https://[bnu.edu.cn/", "malformed"),
    ("https://127.0.0.1/", "malformed"),
    ("https://bnu.edu.cn;evil.com/", "malformed"),
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_authoritative_urls_pass(url: str) -> None:
    assert url_problem(url, ALLOWED) is None


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_everything_else_is_refused_with_a_bilingual_reason(url: str, why: str) -> None:
    problem = url_problem(url, ALLOWED)
    assert problem is not None
    chinese, english = problem.split(" / ")
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese)
    assert why in english


def test_nothing_is_authoritative_without_allowed_domains() -> None:
    assert url_problem("https://bnu.edu.cn/", ()) is not None


def test_allowed_domains_are_compared_without_case_or_dots() -> None:
    assert url_problem("https://news.bnu.edu.cn/", [" BNU.edu.cn. "]) is None
    assert url_problem("https://moe.gov.cn/", ["bnu.edu.cn", "moe.gov.cn"]) is None


def test_a_punycode_host_passes_only_when_listed_exactly() -> None:
    listed = ["xn--fiqs8s.cn"]
    assert url_problem("https://xn--fiqs8s.cn/x", listed) is None
    assert url_problem("https://www.xn--fiqs8s.cn/x", listed) is not None


def center_notice(url: str, title: str = "通知", title_en: str = "") -> Notice:
    return Notice("c1", title, url, "2026-11-28T06:00:00+08:00", "center", title_en=title_en)


@pytest.mark.parametrize(
    ("notice", "why"),
    [
        (center_notice("https://news.bnu.edu.cn/a"), None),
        (center_notice("https://news.bnu.edu.cn/a", title_en="Notice"), None),
        (center_notice("https://bnu-edu.cn/login"), "not an authoritative"),
        (center_notice("http://news.bnu.edu.cn/a"), "https"),
        (center_notice("https://news.bnu.edu.cn/a", title="通" * 61), None),  # length: the author's check
        (center_notice("https://news.bnu.edu.cn/a", title="通知\x1b[2J"), "control"),
        (center_notice("https://news.bnu.edu.cn/a", title_en="Notice\x1b[2J"), "control"),
        (center_notice("https://bnu.edu.cn.evil.com/a", title_en="Notice\x1b[2J"), "control"),
    ],
)
def test_one_decision_on_what_the_gate_may_show(notice: Notice, why: str | None) -> None:
    problem = notice_problem(notice, ALLOWED)
    assert problem is None if why is None else why in (problem or "")
    shown, refused = sort_out([notice], ALLOWED)
    assert (shown == [notice]) == (why is None) and [r.notice for r in refused] == ([] if why is None else [notice])
    assert showable([notice], ALLOWED) == shown


def test_sorting_out_keeps_the_order_and_the_reasons() -> None:
    first, second, third = (center_notice(f"https://{host}/x") for host in ("a.bnu.edu.cn", "evil.cn", "b.bnu.edu.cn"))
    shown, refused = sort_out([first, second, third], ALLOWED)
    assert shown == [first, third]
    assert [(r.notice, "evil.cn" in r.reason) for r in refused] == [(second, True)]


NOW = datetime(2026, 11, 28, 7, 0, tzinfo=timezone(timedelta(hours=8)))


def test_a_local_notice_is_stamped_and_marked_local() -> None:
    notice = make_local_notice(" 食堂错峰就餐 ", "https://www.bnu.edu.cn/a", "Staggered meals", ALLOWED, NOW)
    assert (notice.title, notice.title_en, notice.source) == ("食堂错峰就餐", "Staggered meals", "local")
    assert notice.published_at == notice.received_at == "2026-11-28T07:00:00+08:00"
    other = make_local_notice("食堂", "https://www.bnu.edu.cn/a", "", ALLOWED, NOW, office="校医院")
    assert other.source == "local:校医院" and other.notice_id != notice.notice_id


@pytest.mark.parametrize(
    ("title", "url", "title_en", "why"),
    [
        ("通知", "https://bnu.edu.cn.evil.com/", "", "not an authoritative"),
        ("  ", "https://bnu.edu.cn/", "", "title is empty"),
        ("通知" * 40, "https://bnu.edu.cn/", "", "title is too long"),
        ("通知\x1b[2J", "https://bnu.edu.cn/", "", "control"),
        ("通知", "https://bnu.edu.cn/", "Notice\n", "control"),
    ],
)
def test_a_bad_local_notice_is_refused(title: str, url: str, title_en: str, why: str) -> None:
    with pytest.raises(NoticeRefused, match=why) as refused:
        make_local_notice(title, url, title_en, ALLOWED, NOW)
    assert str(refused.value).startswith("公告被拒绝 / notice refused: ")


def test_local_notices_with_an_office_survive_a_center_refresh(tmp_path) -> None:
    store = NoticeStore(tmp_path)
    local = make_local_notice("校医院通知", "https://hospital.bnu.edu.cn/1", "", ALLOWED, NOW, office="校医院")
    store.add(local)
    center = Notice("c1", "中心通知", "https://www.bnu.edu.cn/c1", "2026-11-27T08:00:00+08:00", "center")
    store.replace_from_center([center], received_at=NOW.isoformat())
    assert {n.notice_id for n in store.all()} == {local.notice_id, "c1"}


@pytest.mark.parametrize(
    ("last_refresh", "since"),
    [
        ("2026-11-28T06:00:00+08:00", None),
        ("2026-11-27T07:00:00+08:00", None),  # exactly 24 hours: not yet
        ("2026-11-27T06:59:00+08:00", "2026-11-27 06:59"),
        ("2026-11-26T22:00:00+00:00", "2026-11-27 06:00"),  # shown in the station's time
        ("2026-11-20T07:00:00", "2026-11-20 07:00"),
        ("2026-11-29T07:00:00+08:00", None),  # the clock went back: not stale
    ],
)
def test_stale_since(last_refresh: str, since: str | None) -> None:
    expected = f"公告可能已过期(自 {since}) / notices may be out of date since {since}" if since else None
    assert stale_since(last_refresh, NOW, 24) == expected


@pytest.mark.parametrize("last_refresh", [None, "", "yesterday"])
def test_never_refreshed_is_stale(last_refresh: str | None) -> None:
    warning = stale_since(last_refresh, NOW, 24)
    assert warning == "公告可能已过期(从未从中心更新) / notices may be out of date: never refreshed from the center"


@pytest.mark.parametrize(
    ("elapsed", "rotation", "count", "index"),
    [
        (0, 20, 3, 0),
        (19.99, 20, 3, 0),
        (20, 20, 3, 1),
        (59, 20, 3, 2),
        (60, 20, 3, 0),
        (3600 * 24 + 20, 20, 3, 1),
        (100, 20, 1, 0),
        (100, 20, 0, 0),
        (-5, 20, 3, 0),
        (100, 0, 3, 0),
    ],
)
def test_rotation_index(elapsed: float, rotation: float, count: int, index: int) -> None:
    assert rotation_index(elapsed, rotation, count) == index


def test_the_reasons_name_the_limits_and_the_allowed_domains() -> None:
    assert url_problem("https://bnu.edu.cn/" + "a" * MAX_URL_LENGTH, ALLOWED) == (
        "网址过长(最多 200 个字符) / the URL is too long (at most 200 characters)"
    )
    domain = url_problem("https://evil.cn/", ["bnu.edu.cn", "moe.gov.cn"]) or ""
    assert "evil.cn" in domain and domain.endswith("(allowed: bnu.edu.cn, moe.gov.cn)")
    assert "(allowed: -)" in (url_problem("https://evil.cn/", ()) or "")
    assert title_problem("通" * 61) == "标题过长(最多 60 个字) / the title is too long (at most 60 characters)"
    assert title_problem("通知\x07") == "标题含控制字符 / the title contains control characters"


def test_a_title_of_exactly_the_limit_is_accepted() -> None:
    assert title_problem("通" * 60) is None and title_problem(" " + "通" * 60 + " ") is None


def test_a_numeric_last_label_is_malformed_even_on_an_allowed_domain() -> None:
    assert "malformed" in (url_problem("https://www.x.1/", ["x.1"]) or "")
    assert url_problem("https://www.x.one/", ["x.one"]) is None
