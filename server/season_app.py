"""The season's pages on a deployment hosting many meetings (`server.deployment`).

- `/admin` and `GET /api/admin/season` (the admin key): per meeting of the organisation file,
  planned / held / 综合评价 fixed / 备案 received with the 7-day clock, what is late, the
  results rolled up by level (`meeting.season`), the 倒排, each reporter's earlier seasons,
  the hosted meetings' consoles and each unit's feedback link.
- `POST /api/admin/package?meeting=<id>` (the admin key): a 备案 package from a unit that met
  elsewhere. It is verified (signature, every file's digest, the sheets recounted) by the
  callable the command gave (`SeasonSettings.read_package`: the server layer does not read
  PDFs) and refused with the verdict when anything fails; a verified one is kept and counted.
- `/unit/<id>` and `GET /api/unit/<id>` (that unit's key): the level above's decision on the
  unit's secretary (反馈), and where the unit's own meeting stands.

The admin key is `<data>/admin.key`; a unit's key is derived from it, so it needs no storage
and a new admin key withdraws every unit link.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meeting import season
from meeting.errors import BadField, Refused
from meeting.organisation import Organisation, Unit
from server.datadir import DataDir
from server.errors import BadKey, BodyTooLarge, NotFound, PackageRefused, RateLimited
from server.http_api import NO_STORE, _handled, _page
from server.ratelimit import FailureLimiter
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

MAX_PACKAGE = 64 * 1024 * 1024  # a real package is a few MB
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


@dataclass(frozen=True)
class FiledPackage:
    """What a verified package holds for the roll-up (`SeasonSettings.read_package`)."""

    meeting_text: str  # its 会议文件.toml
    result: dict  # the tally sheet's result (the `pingyi tally` JSON)
    evaluation: dict | None  # the 综合评价 record ({fixed, entries}), None when not in it
    report: str  # the verdict, in Chinese
    signer_sha256: str = ""  # the fingerprint of the certificate that signed its list


# bytes → FiledPackage; InputError carrying the verdict when the package does not verify
ReadPackage = Callable[[bytes], FiledPackage]
# the hosted meetings' outcomes now: meeting id → Outcome
HostedOutcomes = Callable[[], dict[str, season.Outcome]]


@dataclass(frozen=True)
class SeasonSettings:
    organisation: Organisation
    data: Path  # the deployment's data directory: admin.key, seasons/<season id>/
    read_package: ReadPackage
    hosted_outcomes: HostedOutcomes
    # meeting id → its chair console and 会后 page links (with the chair key): the admin's
    chair_links: Callable[[], dict[str, dict[str, str]]]
    today: Callable[[], datetime.date] = lambda: datetime.datetime.now(BEIJING).date()


class SeasonStore:
    """The packages filed this season and the roll-ups of every season, as files."""

    def __init__(self, data: Path, season_id: str) -> None:
        self.root = data / "seasons"
        self.packages = self.root / season_id / "packages"
        self.season_id = season_id

    def keep(self, meeting_id: str, package: bytes, filed: FiledPackage, on: str) -> bool:
        """Keeps the package as the meeting's record; one filed before is moved to replaced/
        (never deleted: a re-filing must not erase what was counted). Whether it replaced one."""
        self.packages.mkdir(parents=True, exist_ok=True)
        earlier = self.packages / f"{meeting_id}.zip"
        replaced = earlier.exists()
        if replaced:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            kept = self.packages / "replaced"
            kept.mkdir(exist_ok=True)
            for suffix in (".zip", ".json"):
                old = self.packages / f"{meeting_id}{suffix}"
                if old.exists():
                    old.replace(kept / f"{meeting_id}-{stamp}{suffix}")
        _write_bytes(earlier, package)
        record = {**asdict(filed), "filed_on": on}
        _write_json(self.packages / f"{meeting_id}.json", record)
        return replaced

    def signer_of(self, meeting_id: str) -> str:
        """The signer of the package filed before for this meeting ("" : none yet)."""
        path = self.packages / f"{meeting_id}.json"
        if not path.exists():
            return ""
        return str(json.loads(path.read_text("utf-8")).get("signer_sha256", ""))

    def outcomes(self) -> dict[str, season.Outcome]:
        found = {}
        for path in sorted(self.packages.glob("*.json")):
            record = json.loads(path.read_text("utf-8"))
            meeting = parse_meeting_text(record["meeting_text"], path.name)
            found[path.stem] = season.outcome(
                meeting,
                record["result"],
                record["evaluation"],
                filed_on=record["filed_on"],
                via="package",
            )
        return found

    def save_rollup(self, rows: list[season.RollupRow]) -> None:
        """This season's rows, for the history of later seasons (written when they change)."""
        path = self.root / self.season_id / "rollup.json"
        data = [asdict(r) for r in rows]
        if not path.exists() or json.loads(path.read_text("utf-8")) != data:
            _write_json(path, data)

    def seasons(self) -> dict[str, list[dict[str, Any]]]:
        return {
            path.parent.name: json.loads(path.read_text("utf-8"))
            for path in sorted(self.root.glob("*/rollup.json"))
        }


def _write_json(path: Path, data: Any) -> None:
    _write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)  # a reader never sees half a file


def admin_key(data: Path) -> str:
    """The admin key (`<data>/admin.key`, 0600), made on first use."""
    return DataDir(data).admin_key()


def unit_key(admin: str, unit_id: str) -> str:
    return hmac.new(admin.encode(), f"unit:{unit_id}".encode(), hashlib.sha256).hexdigest()[:24]


class SeasonService:
    def __init__(self, settings: SeasonSettings) -> None:
        self.settings = settings
        self.org = settings.organisation
        self.store = SeasonStore(settings.data, self.org.season.id)
        self.admin_key = admin_key(settings.data)
        self.failures = FailureLimiter(limit=20, window=60)
        self.lock = asyncio.Lock()  # one package written at a time

    def outcomes(self, hosted: dict[str, season.Outcome]) -> dict[str, season.Outcome]:
        """The packages' (read from files: in a worker thread) and the hosted meetings' (taken
        from their live state on the event loop, and passed in)."""
        return {**self.store.outcomes(), **hosted}

    def check(self, request: Request, expected: str) -> None:
        header = request.headers.get("authorization", "")
        key = header[7:] if header.lower().startswith("bearer ") else ""
        address = request.client.host if request.client else "?"
        if self.failures.blocked(address):
            raise RateLimited("尝试次数过多，请稍后再试")
        if not hmac.compare_digest(key.encode(), expected.encode()):
            self.failures.record(address)
            raise BadKey("密钥错误", "key")

    def season_view(self, hosted: dict[str, season.Outcome]) -> dict[str, Any]:
        outcomes = self.outcomes(hosted)
        rows = season.rollup_rows(self.org, outcomes)
        self.store.save_rollup(rows)
        links = self.settings.chair_links()
        statuses = season.season_status(self.org, outcomes, self.settings.today())
        return {
            "season": asdict(self.org.season),
            "today": self.settings.today().isoformat(),
            "meetings": [
                {
                    **asdict(s),
                    "stage_name": season.STAGE_NAMES[s.stage],
                    "title": outcomes[s.meeting].title if s.meeting in outcomes else "",
                    **links.get(s.meeting, {}),
                }
                for s in statuses
            ],
            "late": sum(s.late for s in statuses),
            "rollup": season.rollup(rows),
            "rows": [asdict(r) for r in rows],
            "history": season.history(self.org.season.id, self.store.seasons()),
            "units": [
                {**asdict(u), "feedback_url": f"/unit/{u.id}?key={unit_key(self.admin_key, u.id)}"}
                for u in self.org.units
            ],
        }

    def unit_view(self, unit_id: str, hosted: dict[str, season.Outcome]) -> dict[str, Any]:
        unit = self.org.unit(unit_id)
        outcomes = self.outcomes(hosted)
        statuses = season.season_status(self.org, outcomes, self.settings.today())
        return {
            "season": asdict(self.org.season),
            "unit": asdict(unit),
            "feedback": season.feedback_for(self.org, unit_id, outcomes),
            "own_meetings": [
                {**asdict(s), "stage_name": season.STAGE_NAMES[s.stage]}
                for s, planned in zip(statuses, self.org.meetings, strict=True)
                if planned.unit == unit_id
            ],
        }

    async def file_package(self, meeting_id: str, package: bytes) -> dict[str, Any]:
        planned = self.org.meeting(meeting_id)
        if planned is None:
            raise BadField(f"组织文件中没有编号为“{meeting_id}”的会议", "meeting")
        if planned.hosted:
            raise Refused("该会议在本系统中举行，其记录已在此处，无需上传备案包", "meeting")
        try:
            filed = await asyncio.to_thread(self.settings.read_package, package)
        except InputError as error:
            raise PackageRefused(error.message) from None
        meeting = parse_meeting_text(filed.meeting_text, "会议文件.toml")
        unit = self.org.unit(planned.unit)
        if meeting.organizer != unit.name:
            said = f"是“{meeting.organizer}”" if meeting.organizer else "未写明（organizer）"
            raise PackageRefused(
                f"备案包会议文件中的召开单位{said}，不是“{unit.name}”：请上传本单位的备案包"
            )
        _check_covers(self.org, meeting_id, meeting)
        today = self.settings.today().isoformat()
        async with self.lock:  # the pin read and the package kept as one step
            _check_signer(unit, filed, unit.cert_sha256 or self.store.signer_of(meeting_id))
            replaced = await asyncio.to_thread(self.store.keep, meeting_id, package, filed, today)
        return {
            "ok": True,
            "meeting": meeting_id,
            "title": meeting.title,
            "replaced": replaced,
            "report": filed.report,
        }


def _check_signer(unit: Unit, filed: FiledPackage, pinned: str) -> None:
    """The unit's certificate, named in the organisation file or the one that signed its first
    package here: a package re-made and re-signed by anyone else is not the unit's."""
    if pinned and filed.signer_sha256.lower() != pinned.lower():
        raise PackageRefused(
            f"备案清单的签名证书（SHA-256指纹 {filed.signer_sha256[:16]}…）不是{unit.name}的"
            f"（应为 {pinned[:16]}…，见组织文件或此前的备案）：请向该单位核实"
        )


def _check_covers(org: Organisation, meeting_id: str, meeting: Meeting) -> None:
    """Every reporter must lead a unit the meeting covers: else the roll-up cannot place them."""
    for reporter in meeting.reporters:
        if org.covered_unit(meeting_id, reporter.org) is None:
            names = "、".join(org.unit(u).name for u in org.meeting(meeting_id).covers)  # type: ignore[union-attr]
            raise PackageRefused(
                f"述职人{reporter.name}的单位“{reporter.org}”不在该会议的述职单位（{names}）中"
            )


def _service(request: Request) -> SeasonService:
    return request.app.state.season


@_handled
async def season_endpoint(request: Request) -> Response:
    service = _service(request)
    service.check(request, service.admin_key)
    hosted = service.settings.hosted_outcomes()
    body = await asyncio.to_thread(service.season_view, hosted)
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def package_endpoint(request: Request) -> Response:
    service = _service(request)
    service.check(request, service.admin_key)
    package = await _bounded_body(request, MAX_PACKAGE)
    meeting_id = request.query_params.get("meeting", "")
    return JSONResponse(await service.file_package(meeting_id, package), headers=NO_STORE)


@_handled
async def unit_endpoint(request: Request) -> Response:
    service = _service(request)
    unit_id = request.path_params["unit"]
    if unit_id not in {u.id for u in service.org.units}:
        raise NotFound(f"没有编号为“{unit_id}”的单位", "unit")
    service.check(request, unit_key(service.admin_key, unit_id))
    hosted = service.settings.hosted_outcomes()
    body = await asyncio.to_thread(service.unit_view, unit_id, hosted)
    return JSONResponse(body, headers=NO_STORE)


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` (never held whole when too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"文件过大（最多 {limit // (1024 * 1024)} MiB）")
        chunks.append(chunk)
    return b"".join(chunks)


def routes() -> list[Any]:
    return [
        Route("/admin", _page("admin", private=True)),
        Route("/unit/{unit}", _page("unit", private=True)),
        Route("/api/admin/season", season_endpoint),
        Route("/api/admin/package", package_endpoint, methods=["POST"]),
        Route("/api/unit/{unit}", unit_endpoint),
    ]
