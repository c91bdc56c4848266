"""Every string the dashboard shows, in Chinese and English, from one catalog (as kiosk/i18n.py does for the gate)."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

CATALOG: dict[str, tuple[str, str]] = {
    "app.title": ("校园防控数据中心", "Campus epidemic office"),
    "nav.overview": ("总览", "Overview"),
    "nav.completeness": ("完整性", "Completeness"),
    "nav.search": ("查询", "Search"),
    "nav.daily": ("日报", "Daily report"),
    "nav.notices": ("通知", "Notices"),
    "nav.roster": ("名单", "Roster"),
    "nav.audit": ("审计", "Audit"),
    "nav.sign_out": ("退出", "Sign out"),
    "signin.title": ("登录", "Sign in"),
    "signin.username": ("用户名", "User name"),
    "signin.password": ("密码", "Password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.wrong": ("用户名或密码错误", "Wrong user name or password"),
    "signin.locked": ("尝试次数过多,账户已锁定至 {until}", "Too many attempts: the account is locked until {until}"),
    "signin.expired": ("表单已过期,请重试", "The form expired: try again"),
    "refused.csrf": ("表单校验失败,请刷新页面后重试", "The form could not be verified: reload the page and retry"),
    "refused.admin": ("此操作需要管理员账户", "This needs an admin account"),
    "overview.stations": ("站点", "Stations"),
    "overview.today": ("今日通行", "Today's entries"),
    "overview.by_campus": ("按校区", "By campus"),
    "overview.by_station": ("按门岗", "By gate"),
    "overview.by_hour": ("按小时", "By hour"),
    "overview.cases": ("发热与转诊(最新在前)", "Fever and referrals (newest first)"),
    "cases.count": ("今日 {total} 例,{waiting} 例待跟进", "{total} cases today, {waiting} waiting for a follow-up"),
    "cases.all_waiting": ("查看全部待跟进", "All waiting cases"),
    "cases.everything": ("查看全部", "All cases"),
    "overview.live": ("实时更新", "Live"),
    "overview.disconnected": ("连接中断,正在重连", "Disconnected: reconnecting"),
    "station.id": ("站点", "Station"),
    "station.campus": ("校区", "Campus"),
    "station.state": ("状态", "State"),
    "station.online": ("在线", "Online"),
    "station.silent": ("静默 {duration}", "Silent for {duration}"),
    "station.never": ("无心跳", "No heartbeat yet"),
    "station.backlog": ("待上传", "Backlog"),
    "station.backlog_age": ("最早 {duration} 前", "oldest {duration} ago"),
    "station.clock": ("时钟偏差", "Clock offset"),
    "station.version": ("版本", "Version"),
    "station.received": ("已收", "Received"),
    "verdict.admitted": ("准予通行", "Admitted"),
    "verdict.denied": ("禁止通行", "Denied"),
    "verdict.referred": ("转诊", "Referred"),
    "verdict.total": ("合计", "Total"),
    "entry.time": ("时间", "Time"),
    "entry.person": ("人员", "Person"),
    "entry.verdict": ("结果", "Verdict"),
    "entry.temperature": ("体温", "Temperature"),
    "entry.reasons": ("原因", "Reasons"),
    "entry.direction": ("方向", "Direction"),
    "followup.done": ("{user} 已于 {at} 跟进", "Followed up by {user} at {at}"),
    "followup.note": ("跟进情况", "Follow-up note"),
    "followup.submit": ("标记已跟进", "Mark followed up"),
    "completeness.silent_after": ("静默阈值(分钟)", "Silent after (minutes)"),
    "completeness.gaps": ("缺失序号", "Missing sequence numbers"),
    "completeness.damaged": ("损坏序号", "Damaged sequence numbers"),
    "completeness.refused_notices": ("站点拒绝显示的通知", "Notices the station refuses"),
    "completeness.max_seq": ("最大序号", "Highest seq"),
    "completeness.last_heartbeat": ("最近心跳", "Last heartbeat"),
    "completeness.silent": ("静默", "Silent"),
    "completeness.all_well": ("全部完整", "Complete"),
    "completeness.zero": ("零报告:今日 {count} 个站点无通行记录", "Zero report: {count} stations had no entries today"),
    "search.person": ("某人的通行记录", "A person's passages"),
    "search.trace": ("密切接触追踪", "Contact tracing"),
    "search.gate": ("某门岗某时段通行人员", "Who passed a gate between two times"),
    "search.person_id": ("学号/工号", "Person ID"),
    "search.window": ("前后分钟数", "± minutes"),
    "search.start": ("开始", "From"),
    "search.end": ("结束", "To"),
    "search.submit": ("查询", "Search"),
    "search.unmask": ("显示完整姓名和证件号(将被审计)", "Show names and IDs (audited)"),
    "search.unmasked": ("已显示完整信息,此次查看已记录", "Unmasked: this view was audited"),
    "search.own": ("本人通行", "Own passages"),
    "search.contacts": ("接触者", "Contacts"),
    "search.apart": ("相隔分钟", "Minutes apart"),
    "search.none": ("没有记录", "Nothing found"),
    "search.bad_time": ("时间格式应为 YYYY-MM-DDTHH:MM", "Times must be YYYY-MM-DDTHH:MM"),
    "daily.date": ("日期", "Date"),
    "daily.show": ("查看", "Show"),
    "daily.download": ("下载 XLSX(全校)", "Download XLSX (whole school)"),
    "daily.fever": ("发热名单", "Fever list"),
    "daily.denied": ("拒绝名单", "Denied list"),
    "daily.first": ("此处只列出前 {shown} 条,XLSX 中有全部", "The first {shown} here; the XLSX has them all"),
    "daily.bad_date": ("日期应为 YYYY-MM-DD", "The date must be YYYY-MM-DD"),
    "notices.title": ("标题", "Title"),
    "notices.title_en": ("英文标题", "English title"),
    "notices.url": ("链接(https,仅限允许的域名)", "Link (https, allowed domains only)"),
    "notices.source": ("发布单位", "Source"),
    "notices.publish": ("发布", "Publish"),
    "notices.retire": ("撤下", "Retire"),
    "notices.published": ("已发布", "Published"),
    "notices.retired": ("已撤下", "Retired"),
    "notices.refused": ("未发布", "Refused"),
    "notices.allowed": ("允许的域名", "Allowed domains"),
    "notices.preview": ("门岗显示的二维码", "The QR code as the gate shows it"),
    "roster.file": ("名单文件(CSV 或 XLSX)", "Roster file (CSV or XLSX)"),
    "roster.replace": ("替换整个名单(未列出的人将被移除)", "Replace the whole roster (people not listed are removed)"),
    "roster.upload": ("上传并预览", "Upload and preview"),
    "roster.added": ("新增", "Added"),
    "roster.removed": ("移除", "Removed"),
    "roster.changed": ("变更", "Changed"),
    "roster.unchanged": ("未变", "Unchanged"),
    "roster.problems": ("问题(按行)", "Problems (by line)"),
    "roster.confirm": ("确认导入", "Confirm the import"),
    "roster.done": (
        "名单已更新:版本 {version},{changed} 人有变动",
        "Roster updated: version {version}, {changed} changed",
    ),
    "roster.expired": ("预览已过期,请重新上传", "The preview expired: upload again"),
    "roster.nothing": ("文件中没有可导入的行", "No row in the file can be imported"),
    "roster.replace_problems": ("文件有问题,不能替换整个名单", "The file has problems: it cannot replace the roster"),
    "audit.at": ("时间", "At"),
    "audit.user": ("用户", "User"),
    "audit.action": ("操作", "Action"),
    "audit.detail": ("详情", "Detail"),
    "audit.address": ("地址", "Address"),
}


def translate(key: str, language: Language, **values: object) -> str:
    zh, en = CATALOG[key]
    return (en if language == "en" else zh).format(**values)


def duration(seconds: float, language: Language) -> str:
    """45 s, 12 min, 3 h 5 min, 2 d: the silence or the backlog age a person reads at a glance."""
    seconds = max(0, int(seconds))
    zh = language == "zh"
    if seconds < 60:
        return f"{seconds} 秒" if zh else f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} 分钟" if zh else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} 小时 {minutes} 分" if zh else f"{hours} h {minutes} min"
    return f"{hours // 24} 天" if zh else f"{hours // 24} d"
