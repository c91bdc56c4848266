"""The office's dashboard, served by the center under /web beside the JSON API (mounted by `mount.mount_dashboard`).

One more client of the center's queries (kiosk.center.reports, roster, notice_board, damage): Jinja2 pages drawn
on the server, SVG charts, the live overview by server-sent events, and nothing loaded from another host.
"""
