"""The service-task topics of the approval paths and the handlers that do them.

Each handler is a function of one ``ExternalTask`` returning the variables to
complete it with. Side effects (files, mail) go through the ledger keyed by
topic and task id, so a redelivered task repeats nothing (see ``workers.ledger``).

Topics: shared-data, materials-check, acceptance-receipt, certificate,
decision-letter, result-notice, notify, notify-departments, rating-request.
Certificates and decision letters are documents only: the applicant hears the
result once, from ``result-notice`` (one combined answer for a 一件事).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol

from . import catalogue, materials
from .client import EngineClient
from .documents import REMEDY, Document, write_signed
from .ledger import Ledger
from .mail import Mailer
from .runtime import ExternalTask, Handler
from .seal import Seal, ensure_demo_seal
from .settings import WorkerSettings

log = logging.getLogger(__name__)
TEMPLATES = json.loads((Path(__file__).parent / "templates" / "zh-CN.json").read_text(encoding="utf-8"))
CHANNELS = {"window": "综合窗口", "online": "一网通办"}
DEPARTMENT_NAMES = {"market": "区市场监督管理局", "planning": "区规划和自然资源局", "housing": "区建设管理委员会",
                    "ecology": "区生态环境局", "culture": "区文化和旅游局", "center": "区政务服务中心"}


class EngineQuestions(Protocol):
    """What a handler asks the engine about the task it holds (``EngineClient`` over REST)."""

    def seal(self, task_id: str, worker_id: str, department: str) -> None:
        """Return if the case's decider may use ``department``'s approval seal now; raise if not."""

    def rating_token(self, task_id: str, worker_id: str) -> str:
        """The token of the case's rating link."""


@dataclass
class WorkerContext:
    """What the handlers share: configuration, the ledger, mail, the seal, the shared-data client and the
    engine's REST client (for the seal check before a department's approval seal is applied)."""

    settings: WorkerSettings
    ledger: Ledger
    mailer: Mailer
    shared: materials.SharedDataClient
    _seals: dict[str, Seal] = field(default_factory=dict)
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    #: what the handlers ask the engine while they hold a task (the seal check, the rating link's token): a
    #: worker process asks over REST (``EngineClient``); a harness that drives the engine's commands itself
    #: (tests, bench) passes one that asks the engine directly. None: such handlers refuse to go on.
    engine: "EngineQuestions | None" = None

    @classmethod
    def create(cls, settings: WorkerSettings) -> "WorkerContext":
        engine = EngineClient(settings.engine_url, settings.worker_token) if settings.worker_token else None
        return cls(settings, Ledger(settings.worker_store_url),
                   Mailer(settings.smtp_host, settings.smtp_port, settings.mail_from),
                   materials.SharedDataClient(settings.shared_data_url), engine=engine)

    def _asking(self) -> "EngineQuestions":
        if self.engine is None:
            raise RuntimeError("no engine to ask: a worker needs ONEWINDOW_WORKER_TOKEN to ask the engine before it "
                               "applies a department's approval seal or makes a rating link")
        return self.engine

    def check_seals(self, task: ExternalTask, departments: Iterable[str | None]) -> None:
        """Ask the engine, right before signing, whether the case's decider may use each department's
        approval seal now; a refusal (``SealRefused``) stops the handler before anything is signed, and the
        runtime's failure report for the task then raises an incident (``workers.client``). The center's own
        seal (receipts, the window's answers) is not an approval seal held under a letter: not asked."""
        wanted = sorted({d for d in departments if d in DEPARTMENT_NAMES and d != "center"})
        for department in wanted:
            self._asking().seal(task.id, task.worker_id, department)

    def rating_link(self, task: ExternalTask) -> str:
        """The applicant's rating link for the task's case, its token made by the engine (never a variable)."""
        token = self._asking().rating_token(task.id, task.worker_id)
        return f"{self.settings.rating_url}{task.business_key}?t={token}"

    def once(self, task: ExternalTask, effect: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Do ``effect`` once per external task, leased for as long as the task is locked to this worker."""
        return self.ledger.once(f"{task.topic}:{task.id}", task.topic, effect, owner=task.worker_id,
                                lease=timedelta(milliseconds=self.settings.worker_lock_ms))

    def seal(self, department: str | None) -> Seal:
        """The department's approval seal (the center's for receipts and combined answers)."""
        code = department if department in DEPARTMENT_NAMES else "center"
        if code not in self._seals:
            ensure_demo_seal(self.settings.seal_dir, code, self.holder(code))
            self._seals[code] = Seal(self.settings.seal_dir, code)
        return self._seals[code]

    def holder(self, department: str | None) -> str:
        """Whose name a document bears: the department's full name, or the center's."""
        if department in DEPARTMENT_NAMES and department != "center":
            return f"上海市青浦{DEPARTMENT_NAMES[department]}"
        return self.settings.center_name


#: every topic a worker here serves; ``onewindow lint`` checks service tasks against it
TOPICS: frozenset[str] = frozenset({"shared-data", "materials-check", "acceptance-receipt", "certificate",
                                    "decision-letter", "result-notice", "notify", "notify-departments",
                                    "rating-request", "catalogue-check", "catalogue-apply"})


def build_handlers(context: WorkerContext) -> dict[str, Handler]:
    def bind(function: Callable[[WorkerContext, ExternalTask], dict[str, Any]]) -> Handler:
        return lambda task: function(context, task)

    return {
        "shared-data": lambda task: materials.fetch_shared(task, context.shared),
        "materials-check": materials.check_materials,
        "acceptance-receipt": bind(acceptance_receipt),
        "certificate": bind(certificate),
        "decision-letter": bind(decision_letter),
        "result-notice": bind(result_notice),
        "notify": bind(notify),
        "notify-departments": bind(notify_departments),
        "rating-request": bind(rating_request),
        "catalogue-check": bind(catalogue_check),
        "catalogue-apply": bind(catalogue_apply),
    }


# --- texts ------------------------------------------------------------------------------

def fields_of(task: ExternalTask, **extra: Any) -> dict[str, Any]:
    """Placeholders for templates: case variables, the applicant, and computed texts."""
    variables = dict(task.variables)
    application = variables.get("application") or {}
    values = {k: v for k, v in variables.items() if isinstance(v, (str, int, float))}
    values.update({
        "caseNumber": task.business_key or variables.get("caseNumber", ""),
        "applicantName": application.get("applicantName", ""),
        "holderId": materials.holder_of(application) or "",
        "channel": CHANNELS.get(variables.get("channel"), variables.get("channel", "")),
        "acceptedDate": _date_text(variables.get("acceptedAt")),
        "missingList": "\n".join(f"{i}. {m}" for i, m in enumerate(_missing(variables), 1)),
        "remedy": REMEDY, "issuer": DEPARTMENT_NAMES.get(variables.get("department"), ""),
        "department": DEPARTMENT_NAMES.get(variables.get("department"), variables.get("department", "")),
        "opinion": variables.get("opinion", ""), "refusalReasons": variables.get("refusalReasons", ""),
        "decisionReasons": variables.get("decisionReasons", ""),
    })
    values.update(extra)
    return values


def _missing(variables: Mapping[str, Any]) -> list[str]:
    return list(variables.get("missingItems") or variables.get("missingMaterials") or [])


def _date_text(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y年%m月%d日")
    except ValueError:
        return str(value)


def _document(kind: str, values: Mapping[str, Any], holder: str) -> Document:
    template = TEMPLATES[kind]
    return Document(kind, template["title"].format_map(_Blank(values)),
                    [line.format_map(_Blank(values)) for line in template["lines"]], holder)


class _Blank(dict):
    """Template values; a placeholder the case does not have prints empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def _text(kind: str, part: str, values: Mapping[str, Any]) -> str:
    return TEMPLATES[kind][part].format_map(_Blank(values))


# --- effects ------------------------------------------------------------------------------

def _mail_applicant(context: WorkerContext, task: ExternalTask, kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    email = (task.get("application") or {}).get("email")
    if not email:
        return {"mailed": False, "mailNote": "申请人未留电子邮箱，由综合窗口当面或电话告知"}
    message_id = f"{task.business_key}.{task.activity_id}.{task.id}"
    context.mailer.send(email, _text(kind, "subject", values), _text(kind, "body", values), message_id)
    return {"mailed": True, "messageId": message_id, "to": email}


def _signed(context: WorkerContext, task: ExternalTask, kind: str, values: Mapping[str, Any],
            name: str, department: str | None) -> dict[str, Any]:
    """A document in the name of ``department`` (None: the center), sealed with that department's seal."""
    return write_signed(_document(kind, values, context.holder(department)), task.business_key or task.process_instance_id,
                        context.settings.documents_dir, name, context.seal(department), context.now())


def acceptance_receipt(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    def effect() -> dict[str, Any]:
        values = fields_of(task)
        document = _signed(context, task, "receipt", values, "受理凭证", None)
        mail = _mail_applicant(context, task, "receipt", {**values, "file": document["file"]})
        return {"receiptDocument": document, "receiptMail": mail}
    return context.once(task, effect)


def certificate(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """One certificate per granted item (several for a 一件事), numbered from the case number, and the
    written decision granting them (准予行政许可决定书); each department's seal only once the engine allows it."""
    def effect() -> dict[str, Any]:
        granted = [r for r in task.get("memberResults") or [] if r.get("decision") == "grant"] or [
            {"itemCode": task.get("itemCode"), "itemName": task.get("itemName"), "department": task.get("department"),
             "certificateName": task.get("certificateName") or task.get("itemName")}]
        # every seal this task applies is allowed before the first is: a refusal leaves no document behind
        context.check_seals(task, [*(g["department"] for g in granted), task.get("department")])
        made = []
        for index, item in enumerate(granted, 1):
            number = f"{task.business_key}-{index:02d}"
            values = fields_of(task, itemName=item["itemName"], certificateName=item["certificateName"],
                               certificateNumber=number, issuer=DEPARTMENT_NAMES.get(item["department"], ""))
            document = _signed(context, task, "certificate", values, f"证照-{number}", item["department"])
            made.append({**document, "itemCode": item["itemCode"], "number": number})
        values = fields_of(task, certificateName="、".join(m["title"] for m in made),
                           certificateNumber="、".join(m["number"] for m in made),
                           itemName="、".join(str(g["itemName"]) for g in granted))
        letter = _signed(context, task, "granted", values, "准予行政许可决定书", task.get("department"))
        return {"certificates": made, "grantLetter": letter}
    return context.once(task, effect)


def decision_letter(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """The written refusal (不予行政许可决定书) with reasons and remedies, in the name of the department that
    refused: for a 一件事, one letter per refusing department, each under its own seal once the engine allows it."""
    def effect() -> dict[str, Any]:
        refused = [r for r in task.get("memberResults") or [] if r.get("decision") == "refuse"]
        context.check_seals(task, [r["department"] for r in refused] or [task.get("department")])
        if not refused:
            return {"decisionLetter": _signed(context, task, "refused", fields_of(task), "不予许可决定书",
                                              task.get("department"))}
        letters = []
        for department in sorted({r["department"] for r in refused}):
            own = [r for r in refused if r["department"] == department]
            values = fields_of(task, itemName="、".join(r["itemName"] for r in own),
                               decisionReasons="；".join(f"{r['itemName']}：{r['reasons']}" for r in own))
            letters.append({**_signed(context, task, "refused", values, f"不予许可决定书-{department}", department),
                            "department": department})
        return {"decisionLetter": letters[0], "decisionLetters": letters}
    return context.once(task, effect)


def result_notice(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """The applicant's one answer: granted (with the certificate numbers) or refused (with reasons and
    remedies); a 一件事 gets one signed 办理结果告知书 from the window listing every department's result."""
    def effect() -> dict[str, Any]:
        results = task.get("memberResults") or []
        if results:
            values = fields_of(task, resultList=_result_list(results, task.get("certificates") or []),
                               answerText=task.get("answerText") or "",
                               remedy=REMEDY if any(r.get("decision") == "refuse" for r in results) else "")
            document = _signed(context, task, "bundle-answer", values, "一件事办理结果告知书", None)
            return {"resultNotice": document,
                    "resultMail": _mail_applicant(context, task, "bundle-answer", {**values, "file": document["file"]})}
        made = task.get("certificates") or []
        values = fields_of(task, certificateName="、".join(str(c.get("title", "")) for c in made),
                           certificateNumber="、".join(str(c.get("number", "")) for c in made))
        kind = "certificate" if task.get("decision") == "grant" else "refused"
        return {"resultMail": _mail_applicant(context, task, kind, values)}
    return context.once(task, effect)


def _result_list(results: list[Mapping[str, Any]], certificates: list[Mapping[str, Any]]) -> str:
    numbers = {c.get("itemCode"): c.get("number") for c in certificates}
    lines = []
    for index, r in enumerate(results, 1):
        department = DEPARTMENT_NAMES.get(r.get("department"), r.get("department", ""))
        if r.get("decision") == "grant":
            outcome = f"准予许可，证照编号 {numbers[r['itemCode']]}" if r.get("itemCode") in numbers else "准予许可，暂不出件"
        else:
            outcome = f"不予许可，理由：{r.get('reasons', '')}"
        lines.append(f"{index}. {r.get('itemName', '')}（{department}）：{outcome}")
    return "\n".join(lines)


#: the notify topic serves several elements; the element says which notice it is
NOTICES = {
    "Task_supplement_notice": "supplement",
    "Task_refusal_notice": "not-accepted",
    "Task_survey_warning": "survey-warning",
    "Task_issue_overdue": "issue-overdue",
}


def notify(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    kind = NOTICES.get(task.activity_id)
    if kind is None:
        raise ValueError(f"the notify topic has no notice for element '{task.activity_id}'")

    def effect() -> dict[str, Any]:
        values = fields_of(task)
        if kind in ("supplement", "not-accepted"):
            name = "补正材料告知书" if kind == "supplement" else "不予受理通知书"
            document = _signed(context, task, kind, values, f"{name}-{task.id[:8]}", task.get("department"))
            return {"noticeDocument": document, "noticeDocuments": [*(task.get("noticeDocuments") or []), document],
                    "noticeMail": _mail_applicant(context, task, kind, values)}
        to = (f"{task.get('department')}@{context.settings.department_mail_domain}" if kind == "survey-warning"
              else f"supervision@{context.settings.department_mail_domain}")
        message_id = f"{task.business_key}.{task.activity_id}.{task.id}"
        context.mailer.send(to, _text(kind, "subject", values), _text(kind, "body", values), message_id)
        return {"noticeMail": {"mailed": True, "to": to, "messageId": message_id}}
    return context.once(task, effect)


def notify_departments(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """一件事: every department is told that another refused, before the window answers the applicant."""
    def effect() -> dict[str, Any]:
        results = task.get("memberResults") or []
        refused = [r for r in results if r.get("decision") == "refuse"]
        listing = "\n".join(f"- {r['itemName']}（{DEPARTMENT_NAMES.get(r['department'], r['department'])}）：{r['reasons']}"
                            for r in refused)
        told = []
        for department in sorted({r["department"] for r in results}):
            values = fields_of(task, department=DEPARTMENT_NAMES.get(department, department), refusedList=listing)
            to = f"{department}@{context.settings.department_mail_domain}"
            context.mailer.send(to, _text("bundle-refusal", "subject", values), _text("bundle-refusal", "body", values),
                                f"{task.business_key}.{task.activity_id}.{task.id}.{department}")
            told.append(department)
        return {"departmentsTold": told}
    return context.once(task, effect)


def rating_request(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    def effect() -> dict[str, Any]:
        values = fields_of(task, ratingLink=context.rating_link(task))
        return {"ratingRequest": _mail_applicant(context, task, "rating", values)}
    return context.once(task, effect)


def catalogue_check(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """事项动态调整: the engine checks the department's proposed item record; nothing is saved, and the
    problems go back into the case (see ``workers.catalogue``)."""
    return catalogue.check_proposal(task, catalogue.engine_client(context.settings))


def catalogue_apply(context: WorkerContext, task: ExternalTask) -> dict[str, Any]:
    """事项动态调整: the engine writes the record the 区政务办 approved as the item's next version, once per
    adjustment case (a redelivered task gets the same version back, so no ledger entry is needed)."""
    return catalogue.apply_adjustment(task, catalogue.engine_client(context.settings))
