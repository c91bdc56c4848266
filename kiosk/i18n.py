"""Every string a person reads, in Chinese and English, from one catalog."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

CATALOG: dict[str, tuple[str, str]] = {
    # verdicts
    "verdict.admitted": ("准予通行", "Admitted"),
    "verdict.denied": ("禁止通行", "Denied"),
    "verdict.referred": ("请到隔离等候区", "Referred"),
    "verdict.duplicate": ("已刷卡", "Already scanned"),
    # reasons
    "reason.on_roster": ("身份已核验", "Identity verified"),
    "reason.not_on_roster": ("不在名单中,请联系值班人员", "Not on the roster: see the duty officer"),
    "reason.no_return_approval": ("未获返校批准", "No approval to return to campus"),
    "reason.medical_observation": ("医学观察期内,请到隔离等候区", "Under medical observation: go to the waiting area"),
    "reason.fever_remeasure": ("体温偏高,请复测", "Temperature high: measure again"),
    "reason.fever_referred": ("体温异常,请到发热门诊", "Fever: go to the fever clinic"),
    "reason.fever_cleared": ("复测正常", "Re-measure normal"),
    "reason.visitor_registered": ("访客已登记", "Visitor registered"),
    "reason.visitor_incomplete": ("访客信息不完整", "Visitor details incomplete"),
    "reason.leaving": ("离开", "Leaving"),
    # scanning
    "scan.prompt": ("请刷卡", "Please scan"),
    "scan.rejected": ("无法识别的卡号,请重新刷卡", "Unreadable card: please scan again"),
    "scanner.connected": ("读卡器已连接", "Reader connected"),
    "scanner.reconnecting": ("读卡器重新连接中", "Reader reconnecting"),
    "scanner.keyboard": ("键盘扫码", "Keyboard scanner"),
    "scan.rejected.empty": ("空白", "nothing read"),
    "scan.rejected.too_long": ("内容过长", "too long"),
    "scan.rejected.not_utf8": ("乱码", "unreadable bytes"),
    "scan.rejected.control": ("含控制字符", "control characters"),
    "scan.rejected.pattern": ("卡号格式不符", "not a card number"),
    # sync
    "sync.online": ("在线", "Online"),
    "sync.offline": ("离线", "Offline"),
    "sync.waiting": ("待上传 {count} 条", "{count} waiting"),
    "sync.oldest": ("最早 {age}", "oldest {age}"),
    "sync.no_center": ("未配置数据中心,仅离线工作", "no center configured: working offline only"),
    "sync.token_missing": ("找不到令牌文件 {path}", "token file not found: {path}"),
    "sync.token_open": ("令牌文件 {path} 他人可读,请 chmod 600", "token file {path} is readable by others: chmod 600"),
    "sync.token_empty": ("令牌文件 {path} 为空", "token file {path} is empty"),
    "sync.ca_missing": ("无法读取证书文件 {path}", "cannot read the CA file {path}"),
    "sync.unreachable": ("无法连接数据中心", "cannot reach the center"),
    "sync.timeout": ("数据中心响应超时", "the center did not answer in time"),
    "sync.server_error": ("数据中心出错(HTTP {status})", "center error (HTTP {status})"),
    "sync.unauthorized": ("数据中心拒绝了本站令牌", "the center refused this station's token"),
    "sync.forbidden": ("令牌不属于本站点 {station}", "the token does not belong to station {station}"),
    "sync.bad_reply": ("数据中心的回复无法识别", "unreadable reply from the center"),
    "sync.rejected": ("{count} 条记录被数据中心拒收", "{count} entries rejected by the center"),
    "sync.pending_left": ("仍有 {count} 条未确认", "{count} entries still unacknowledged"),
    "sync.done": ("全部已上传", "everything acknowledged"),
    # notices (kiosk/notices.py, kiosk/qr.py, the notice widgets)
    "notice.url.empty": ("网址为空", "the URL is empty"),
    "notice.url.too_long": ("网址过长(最多 {limit} 个字符)", "the URL is too long (at most {limit} characters)"),
    "notice.url.characters": (
        "网址含空白、控制字符、反斜杠或非 ASCII 字符",
        "the URL contains whitespace, control characters, backslashes or non-ASCII characters",
    ),
    "notice.url.https": ("只接受 https:// 网址", "only https:// URLs are accepted"),
    "notice.url.no_host": ("网址缺少域名", "the URL has no host"),
    "notice.url.userinfo": ("网址不得含用户名(@)", "the URL must not contain a user name (@)"),
    "notice.url.port": ("网址不得指定端口", "the URL must not name a port"),
    "notice.url.host": ("域名格式不正确", "the host name is malformed"),
    "notice.url.punycode": (
        "国际化域名(xn--)只有与白名单完全相同时才接受",
        "internationalised (xn--) host names are accepted only when listed exactly",
    ),
    "notice.url.domain": (
        "{host} 不是权威来源(允许:{allowed})",
        "{host} is not an authoritative source (allowed: {allowed})",
    ),
    "notice.title.empty": ("标题为空", "the title is empty"),
    "notice.title.too_long": ("标题过长(最多 {limit} 个字)", "the title is too long (at most {limit} characters)"),
    "notice.title.characters": ("标题含控制字符", "the title contains control characters"),
    "notice.refused": ("公告被拒绝", "notice refused"),
    "notice.added": ("公告已添加", "notice added"),
    "notice.stale": ("公告可能已过期(自 {since})", "notices may be out of date since {since}"),
    "notice.stale_never": (
        "公告可能已过期(从未从中心更新)",
        "notices may be out of date: never refreshed from the center",
    ),
    "notice.none": ("暂无公告", "No notices"),
    "notice.scan": ("扫码查看官方公告", "Scan for the official notice"),
    "qr.enlarge": ("请放大窗口", "enlarge the window"),
    # reports for the statistics office (kiosk export)
    "export.col.time": ("时间", "Time"),
    "export.col.station": ("站点", "Station"),
    "export.col.direction": ("方向", "Direction"),
    "export.col.person_id": ("学工号", "ID"),
    "export.col.name": ("姓名", "Name"),
    "export.col.role": ("身份", "Role"),
    "export.col.method": ("识别方式", "Method"),
    "export.col.verdict": ("结果", "Verdict"),
    "export.col.reasons": ("原因", "Reasons"),
    "export.col.temperatures": ("体温(°C)", "Temperatures (°C)"),
    "export.col.operator": ("值班员", "Operator"),
    "export.col.offline": ("离线记录", "Offline"),
    "export.col.synced": ("已上传", "Synced"),
    "export.direction.in": ("进", "In"),
    "export.direction.out": ("出", "Out"),
    "export.role.student": ("学生", "Student"),
    "export.role.staff": ("教职工", "Staff"),
    "export.role.visitor": ("访客", "Visitor"),
    "export.method.serial_scan": ("读卡器", "Card reader"),
    "export.method.keyboard_scan": ("扫码枪", "Keyboard scanner"),
    "export.method.typed": ("手工输入", "Typed"),
    "export.method.visitor_form": ("访客登记", "Visitor form"),
    "export.verdict.admitted": ("准予通行", "Admitted"),
    "export.verdict.denied": ("禁止通行", "Denied"),
    "export.verdict.referred": ("已转介", "Referred"),
    "export.yes": ("是", "yes"),
    "export.no": ("否", "no"),
    "export.sheet.entries": ("通行记录", "Entries"),
    "export.sheet.counts": ("按小时统计", "By hour"),
    "export.hour": ("小时", "Hour"),
    "export.total": ("合计", "Total"),
    # store
    "store.full": ("磁盘已满,无法记录!请立即联系管理员", "Disk full, cannot record! Call the administrator now"),
}


def t(key: str, language: Language = "zh", **values: object) -> str:
    """The text for `key` in `language`, formatted with `values`; the key itself if unknown."""
    pair = CATALOG.get(key)
    if pair is None:
        return key
    text = pair[0] if language == "zh" else pair[1]
    return text.format(**values) if values else text


def both(key: str, **values: object) -> str:
    """Chinese and English together, for messages that must be understood whatever the setting."""
    return f"{t(key, 'zh', **values)} / {t(key, 'en', **values)}"
