"""Demo data: a campus roster with realistic Chinese names, official-looking notices, a duty officer.

Deterministic for a given seed, so that the demo and the tests see the same people.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.models import Notice, Person, Role

DEMO_STAFF_ID = "T0001"
DEMO_STAFF_NAME = "王值班"
DEMO_PIN = "2020"
"""Printed when the demo starts; a real station never has a PIN in its code."""
DEMO_WEB_USER = "office"
DEMO_WEB_PASSWORD = "demo-office-2020"
"""The demo center's dashboard account (admin), printed when the demo starts."""

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐")
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子涵梓萱一诺欣怡思远"
    "佳琪俊杰志强晓东雨桐博文嘉怡天佑若曦雅婷晨阳书瑶"
)
CAMPUSES = ("海淀校园", "昌平校园G区", "西城校园", "珠海园区")
_DORMS = ("西北楼", "西南楼", "京师大厦", "学一楼", "学二楼", "学五楼", "G区1号楼", "G区2号楼", "励耘楼", "海华苑")


def demo_people(count: int = 3000, seed: int = 2020) -> list[Person]:
    """Students (most approved to return, some not, a few under medical observation) and some staff."""
    rng = random.Random(seed)
    people: list[Person] = []
    used: set[str] = set()
    for index in range(count):
        staff = index % 15 == 0
        person_id = ""
        while not person_id or person_id in used:
            if staff:
                person_id = f"T{rng.randrange(1001, 9999)}"
            else:
                person_id = f"20{rng.randrange(19, 26)}{rng.randrange(10**6):06d}"
        used.add(person_id)
        campus = rng.choice(CAMPUSES)
        people.append(
            Person(
                person_id=person_id,
                name=_name(rng),
                role=Role.STAFF if staff else Role.STUDENT,
                campus=campus,
                dorm="" if staff else rng.choice(_DORMS),
                return_approved=staff or rng.random() < 0.75,
                observation=rng.random() < 0.015,
            )
        )
    return people


def _name(rng: random.Random) -> str:
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(_SURNAMES)
    return surname + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def demo_notices(now: datetime) -> list[Notice]:
    """Official-looking notices on the school's domain, newest first."""
    items = (
        ("致全校党(团)组织和全体党(团)员、干部的一封信", "A letter to all Party and League members and cadres",
         "https://news.bnu.edu.cn/zx/ttgz/2020-01-31/letter.html", "党委宣传部"),
        ("关于延期返校的通知:未经批准不得提前返校", "Return postponed: no early return without approval",
         "https://www.bnu.edu.cn/tzgg/2020/return-postponed.html", "学生工作部"),
        ("发热门诊与隔离等候区位置及就诊流程", "Where the fever clinic and the isolation waiting area are",
         "https://hospital.bnu.edu.cn/notice/fever-clinic-guide.html", "校医院"),
        ("食堂分时段就餐安排(海淀校园)", "Canteen meal times by slot (Haidian campus)",
         "https://hq.bnu.edu.cn/tzgg/canteen-slots-2020.html", "后勤管理处"),
    )
    return [
        Notice(
            notice_id=f"demo-{index + 1}",
            title=title,
            title_en=title_en,
            url=url,
            published_at=(now - timedelta(days=index)).isoformat(timespec="seconds"),
            source=source,
        )
        for index, (title, title_en, url, source) in enumerate(items)
    ]


UNKNOWN_ID = "2099000001"
"""Not on any demo roster (the simulator's unknown IDs start with 2099 too)."""

DEMO_STATION_ID = "demo-dorm-xbl"
DEMO_STATION_NAME = "西北楼 宿舍 北门"
DEMO_CAMPUS = "海淀校园"


@dataclass(frozen=True, slots=True)
class DemoExamples:
    """IDs worth typing at a dormitory gate, one per kind of verdict."""

    admitted: Person
    """A student approved to return: admitted."""
    no_approval: Person
    """A student without return approval: denied at a dormitory gate (the school's order)."""
    observation: Person
    """A student under medical observation: referred to the waiting area."""
    unknown: str = UNKNOWN_ID
    """Not on the roster: denied."""


def demo_examples(people: Sequence[Person]) -> DemoExamples:
    """The first person of each kind in the roster (deterministic, like the roster)."""
    students = [p for p in people if p.role is Role.STUDENT]
    return DemoExamples(
        admitted=next(p for p in students if p.return_approved and not p.observation),
        no_approval=next(p for p in students if not p.return_approved and not p.observation),
        observation=next(p for p in students if p.observation),
    )


def demo_config(
    *, center_url: str, token_file: str, scanner_port: str, pin_hash: str, sync_interval: int = 3
) -> str:
    """A complete kiosk.toml for the demo station (a dormitory gate shows the school's order best)."""
    return f"""\
# The demo station, written by `kiosk demo`; `kiosk check-config --config kiosk.toml` accepts it.

[station]
id = {_quoted(DEMO_STATION_ID)}
name = {_quoted(DEMO_STATION_NAME)}
campus = {_quoted(DEMO_CAMPUS)}
gate = "dormitory"               # checks return approvals: students without one are denied

[scanner]
port = {_quoted(scanner_port)}  # "" = type an ID + Enter on the gate screen

[center]
url = {_quoted(center_url)}
token_file = {_quoted(token_file)}
sync_interval = {sync_interval}  # seconds: short, so that the demo shows sync at work
timeout = 2.0

[storage]
data_dir = "data"

[[security.duty]]
staff_id = {_quoted(DEMO_STAFF_ID)}
name = {_quoted(DEMO_STAFF_NAME)}
pin_hash = {_quoted(pin_hash)}
"""


def _quoted(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML), so that any path is safe in the file."""
    return json.dumps(text, ensure_ascii=False)
