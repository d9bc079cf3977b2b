"""The reform's approval paths end to end: clerks complete tasks as the engine API lets them, the real
worker handlers do the service tasks (signed PDFs, mail over SMTP, the shared-data stand-in over HTTP)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from engine import authorizations, caseclock, catalogue
from engine.errors import BadUserRequest, Forbidden
from engine.forms import FormInvalid
from engine.models import AuditEntry, CaseClock, ClockSuspension

from .paths import (ALL_FOOD_MATERIALS, ENTERPRISE, FOOD_CHANGE, FOOD_LICENCE, GRANT, PERFORMANCE, PERSON, PHARMACY,
                    RESTAURANT_BUNDLE, SOLE_TRADER, delivered)

APPLICANT_MAIL = "luqinghe@example.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def verify_signed(path: str, seal_dir: Path) -> None:
    """The PDF carries one intact signature that chains to the seal's CA."""
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(seal_dir / "ca.crt"))])
    with open(path, "rb") as handle:
        signatures = PdfFileReader(handle).embedded_signatures
        assert len(signatures) == 1
        status = validate_pdf_signature(signatures[0], trust)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def pdf_text(path: str) -> str:
    """What the signed document says, as a reader of the PDF sees it (lines joined)."""
    return "".join(page.extract_text() for page in PdfReader(path).pages).replace("\n", "")


def signer_of(path: str) -> str:
    with open(path, "rb") as handle:
        return PdfFileReader(handle).embedded_signatures[0].signer_cert.subject.native["common_name"]


def clock_of(center, key):
    with center.sessions.begin() as session:
        clock = session.get(CaseClock, center.instance_id(key))
        session.expunge(clock)
        return clock


def accept_and_decide_on_the_spot(center, key, decision=GRANT):
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "材料齐全，予以受理"})
    assert center.work() == ["acceptance-receipt"]
    center.complete(key, "Task_chief_decision", "market_chief", decision)


def test_happy_path_on_the_spot_decision_with_signed_certificate_delivery_and_rating(center, smtp, seal_dir):
    box, _ = smtp
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert key.startswith("QP-MARKET-20260105-")
    assert center.work() == ["shared-data", "materials-check"]
    found = center.variables(key)
    # 两个免于提交: the licences came from the shared-data service, so nothing is missing
    assert {m["code"] for m in found["sharedMaterials"]} == {"business-licence", "old-licence"}
    assert found["materialsComplete"] is True
    assert center.waiting(key) == ["Task_acceptance_review"]
    accept_and_decide_on_the_spot(center, key)
    assert center.work() == ["certificate", "result-notice"]
    found = center.variables(key)
    assert found["decidedAt"] and found["certificates"][0]["number"] == f"{key}-01"
    verify_signed(found["certificates"][0]["file"], seal_dir)
    verify_signed(found["receiptDocument"]["file"], seal_dir)
    verify_signed(found["grantLetter"]["file"], seal_dir)  # the written decision (准予行政许可决定书)
    assert signer_of(found["grantLetter"]["file"]) == "上海市青浦区市场监督管理局 审批专用章"
    assert clock_of(center, key).closed_at is not None  # the decision stops the clock, not the delivery
    center.complete(key, "Task_delivery", "window", {"deliveryMethod": "window", "recipientName": "陆青禾"})
    assert center.work() == ["rating-request"]
    center.message("rating-received", key, {"rating": "非常满意", "realName": True})
    assert center.status(key) == "completed"
    subjects = [m["Subject"] for m in box.to(APPLICANT_MAIL)]
    assert "已于2026年01月05日受理" in box.to(APPLICANT_MAIL)[0].get_content()  # dated by the engine's clock
    assert [s.split(" ")[0] for s in subjects] == ["【青浦政务服务】受理凭证", "【青浦政务服务】准予许可，证照已制作",
                                                   "【青浦政务服务】请对本次服务进行评价"]


def test_a_licence_not_handed_over_within_ten_working_days_is_reported_to_supervision(center, smtp):
    """Art. 44: issue within 10 working days of the grant; the timer tells supervision, it issues nothing."""
    box, _ = smtp
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    accept_and_decide_on_the_spot(center, key)  # Monday 2026-01-05
    assert center.work() == ["certificate", "result-notice"]
    center.pass_days(14)  # Monday 01-19, 09:00: the tenth working day has not ended
    assert center.work() == []
    center.pass_days(1)
    assert center.work() == ["notify"]
    assert "出件超过10个工作日" in box.to("supervision@qingpu.gov.cn")[-1]["Subject"]
    assert center.waiting(key) == ["Task_delivery"]  # still the window's to hand over


def test_supplement_loop_twice_then_accepted_from_the_last_correction(center, smtp):
    box, _ = smtp
    key = center.receive(FOOD_LICENCE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    assert center.variables(key)["missingMaterials"] == ["与食品经营相适应的经营场所平面布局图", "食品安全管理制度文本"]
    rounds = [{"missingItems": ["经营场所平面布局图", "食品安全管理制度文本"]},
              {"missingItems": ["食品安全管理制度文本", "法定代表人签字的承诺书"],
               "supplementOverrideReason": "补正的制度文本附有承诺事项，须由法定代表人签字确认"}]
    for round_ in rounds:
        review = {"acceptance": "supplement", "opinion": "材料不齐", **round_}
        if "supplementOverrideReason" in round_:
            # 一次性告知: an item the first notice did not list needs a written reason
            with pytest.raises(BadUserRequest, match="法定代表人签字的承诺书"):
                center.complete(key, "Task_acceptance_review", "market_clerk",
                                {k: v for k, v in review.items() if k != "supplementOverrideReason"})
        center.complete(key, "Task_acceptance_review", "market_clerk", review)
        assert center.work() == ["notify"]
        assert clock_of(center, key).acceptance == caseclock.SUPPLEMENT
        center.pass_days(1)
        with pytest.raises(FormInvalid, match="补正后的全部申请材料"):
            center.message("supplement-received", key, {"submittedMaterials": []})
        center.message("supplement-received", key, {"submittedMaterials": ALL_FOOD_MATERIALS})
        assert center.work() == ["shared-data", "materials-check"]
        found = center.variables(key)  # the supplement replaced the materials and the check saw them
        assert found["submittedMaterials"] == ALL_FOOD_MATERIALS and found["materialsComplete"] is True
        review = center.tasks(key)[0]  # reviewed again within 5 working days of the correction, not of receipt
        assert review.due_at == center.clock.now().replace(hour=9, minute=0, microsecond=0) + timedelta(days=7)
    arrived = center.clock.now()
    center.pass_days(1)
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "补正后齐全"})
    assert center.work() == ["acceptance-receipt"]
    clock = clock_of(center, key)
    assert clock.acceptance == caseclock.ACCEPTED and clock.accepted_at == arrived.replace(microsecond=0)
    notices = [m for m in box.to(APPLICANT_MAIL) if "请补正材料" in m["Subject"]]
    assert len(notices) == 2 and "1. 经营场所平面布局图\n2. 食品安全管理制度文本" in notices[0].get_content()
    with center.sessions.begin() as session:
        override = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "clock-supplement-override")).one()
        assert override.actor == "market_clerk" and override.details["added"] == ["法定代表人签字的承诺书"]
    assert center.waiting(key) == ["Task_handoff"]  # a new food business gets a site survey


def test_refusal_to_accept_gives_reasons_and_remedies_and_ends_the_case(center, smtp, seal_dir):
    box, _ = smtp
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {
        "acceptance": "refuse", "opinion": "不属于本机关职权范围",
        "refusalReasons": "申请事项依法不需要取得行政许可"})
    assert center.work() == ["notify"]
    assert center.status(key) == "completed" and "End_not_accepted" in center.completed(key)
    body = box.to(APPLICANT_MAIL)[-1].get_content()
    assert "申请事项依法不需要取得行政许可" in body and "行政复议" in body and "行政诉讼" in body
    notice = center.variables(key)["noticeDocument"]["file"]
    verify_signed(notice, seal_dir)
    assert all(s in pdf_text(notice) for s in ("不予受理通知书", "申请事项依法不需要取得行政许可", "行政复议", "行政诉讼"))
    assert clock_of(center, key).closed_at is not None


def test_three_level_refusal_with_reasons_and_a_signed_decision_letter(center, smtp, seal_dir):
    box, _ = smtp
    key = center.receive("310118-GHZY-001", ENTERPRISE, [{"code": "application-form"}, {"code": "drawings"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "planning_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    assert center.variables(key)["decisionRoute"] == "department"  # not written-review-only: three levels
    center.complete(key, "Task_handling_review", "planning_clerk", {"opinion": "建筑间距不符合规划条件", "recommendation": "refuse"})
    center.complete(key, "Task_section_review", "planning_head", {"opinion": "同意承办意见", "agree": True})
    with pytest.raises(FormInvalid) as refused:
        center.complete(key, "Task_chief_decision", "planning_chief", {"decision": "refuse", "opinion": "不予许可",
                                                                       "sealConfirmed": True})
    assert refused.value.fields == {"decisionReasons": "「不予许可的理由」为必填项"}
    center.complete(key, "Task_chief_decision", "planning_chief", {
        "decision": "refuse", "opinion": "不予许可", "sealConfirmed": True,
        "decisionReasons": "建筑间距不符合《上海市城市规划管理技术规定》第二十六条"})
    assert center.work() == ["decision-letter", "result-notice"]
    letter = center.variables(key)["decisionLetter"]
    verify_signed(letter["file"], seal_dir)
    assert all(s in pdf_text(letter["file"]) for s in ("不予行政许可决定书", "第二十六条", "六十日内依法申请行政复议",
                                                      "六个月内依法向人民法院提起行政诉讼"))
    mail = box.to(APPLICANT_MAIL)[-1].get_content()
    assert "第二十六条" in mail and "六十日内依法申请行政复议" in mail and "行政诉讼" in mail
    levels = [t for t in center.completed(key) if t.startswith(("Task_handling", "Task_section", "Task_chief"))]
    assert sorted(levels) == ["Task_chief_decision", "Task_handling_review", "Task_section_review"]
    with center.sessions.begin() as session:  # rule 8: every step on record with signer, opinion and time
        steps = [(e.actor, e.details["activityId"], e.details["values"]["opinion"], e.at) for e in session.scalars(
            sa.select(AuditEntry).where(AuditEntry.instance_id == center.instance_id(key),
                                        AuditEntry.action == "complete-task").order_by(AuditEntry.id))]
    assert [s[:3] for s in steps[1:]] == [
        ("planning_clerk", "Task_handling_review", "建筑间距不符合规划条件"),
        ("planning_head", "Task_section_review", "同意承办意见"), ("planning_chief", "Task_chief_decision", "不予许可")]
    assert all(s[3] is not None for s in steps)


def test_only_a_valid_authorization_completes_the_decision(center):
    with center.sessions.begin() as session:
        from engine import identity
        identity.create_user(session, "market_chief2", None, groups=["chief-representative"], department="market")
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    with pytest.raises(authorizations.AuthorizationRefused, match="holds no authorization") as refused:
        center.complete(key, "Task_chief_decision", "market_chief2", GRANT)
    with center.sessions.begin() as session:
        authorizations.record_refusal(session, refused.value)
        entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "authorization-refused")).one()
        assert entry.actor == "market_chief2" and entry.details["itemCode"] == FOOD_CHANGE
        letter = session.scalars(sa.select(authorizations.Authorization)
                                 .where(authorizations.Authorization.username == "market_chief")).one()
        authorizations.revoke(session, letter.id, actor="admin")
    with pytest.raises(Forbidden, match="was revoked"):
        center.complete(key, "Task_chief_decision", "market_chief", GRANT)
    assert center.waiting(key) == ["Task_chief_decision"]  # nothing was written


def test_an_expired_authorization_blocks_the_decision(center):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.clock.advance(timedelta(days=3 * 365))  # the demo letters run to the end of 2028
    with pytest.raises(Forbidden, match="expired on 2028-12-31"):
        center.complete(key, "Task_chief_decision", "market_chief", GRANT)


def test_site_survey_warns_escalates_and_pauses_the_clock_where_the_item_says_so(center, smtp):
    box, _ = smtp
    key = center.receive(PHARMACY, ENTERPRISE, [{"code": c} for c in ("application-form", "pharmacist", "premises")])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(key, "Task_handoff", "market_clerk", {"surveyScope": "核查经营场所和仓库", "surveyLimitDays": 2})
    assert clock_of(center, key).suspended_since is not None  # this item stops the clock for the survey
    assert center.waiting(key) == ["Task_site_survey"]
    center.pass_days(1.5)  # Tuesday evening, after office close: one working day left
    assert center.work() == ["notify"]
    assert "即将超期" in box.to("market@qingpu.gov.cn")[-1]["Subject"]
    assert center.waiting(key) == ["Task_site_survey"]  # the warning does not interrupt the survey
    center.pass_days(1)  # Wednesday evening: overdue
    assert center.waiting(key) == ["Task_escalation"]
    center.complete(key, "Task_escalation", "market_head", {"instruction": "请两个工作日内完成", "surveyLimitDays": 2})
    report = {"inspectors": [{"name": "周涛", "staffId": "SCJ-031"}], "surveyDate": "2026-01-08",
              "findings": "经营场所与申请材料一致", "surveyConclusion": "符合"}
    with pytest.raises(FormInvalid) as one_inspector:
        center.complete(key, "Task_site_survey", "market_specialist", report)
    assert one_inspector.value.fields == {"inspectors": "「核查人员」至少需要两名（行政许可法第三十四条）"}
    report["inspectors"].append({"name": "周涛", "staffId": "SCJ-031"})
    with pytest.raises(FormInvalid, match="不能是同一人"):
        center.complete(key, "Task_site_survey", "market_specialist", report)
    report["inspectors"][1] = {"name": "吴静", "staffId": "SCJ-044"}
    center.complete(key, "Task_site_survey", "market_specialist", report)
    center.complete(key, "Task_report_receipt", "market_clerk", {"remark": "踏勘报告已接收"})
    clock = clock_of(center, key)
    assert clock.suspended_since is None and clock.suspended_days == 2  # Monday 09:00 to Wednesday evening
    with center.sessions.begin() as session:
        pause = session.scalars(sa.select(ClockSuspension)).one()
        assert pause.procedure == "site-survey" and pause.result == "符合" and "不计入审批时限" in pause.legal_basis
    assert center.waiting(key) == ["Task_handling_review"]


def bundle_with_ecology_refusing(center, box) -> str:
    """A 一件事 of three departments taken to the point where two granted, ecology refused and every
    department was told; the window's combined answer waits."""
    key = center.receive(RESTAURANT_BUNDLE, ENTERPRISE, [{"code": c} for c in ("application-form", "layout", "drainage-plan")])
    assert center.work() == ["shared-data", "materials-check"]
    center.complete(key, "Task_bundle_review", "window", {"acceptance": "accept", "opinion": "一套材料齐全，一窗受理"})
    assert center.work() == ["acceptance-receipt"]
    assert sorted(center.waiting(key)) == ["Task_chief_decision", "Task_handoff", "Task_handoff"]
    for department in ("market", "housing"):
        handoff = [t for t in center.tasks(key) if t.activity_id == "Task_handoff" and f"{department}:approval-clerk" in t.candidate_groups]
        assert len(handoff) == 1
    # each department sees only its own task
    ecology = [t for t in center.tasks(key) if t.activity_id == "Task_chief_decision"][0]
    assert ecology.candidate_groups == ["ecology:chief-representative"]
    # each department's own deadline: the discharge permit promises 10 working days from acceptance
    assert ecology.due_at.astimezone(SHANGHAI) == datetime(2026, 1, 19, 17, 0, tzinfo=SHANGHAI)
    report = {"inspectors": [{"name": "甲", "staffId": "1"}, {"name": "乙", "staffId": "2"}], "surveyDate": "2026-01-06",
              "findings": "现场与申请一致", "surveyConclusion": "符合"}
    for department in ("market", "housing"):  # survey first, then three levels
        center.complete(key, "Task_handoff", f"{department}_clerk", {"surveyScope": "现场核查", "surveyLimitDays": 3},
                        department=department)
        center.complete(key, "Task_site_survey", f"{department}_specialist", report, department=department)
        center.complete(key, "Task_report_receipt", f"{department}_clerk", {"remark": "已接收"}, department=department)
        center.complete(key, "Task_handling_review", f"{department}_clerk", {"opinion": "符合", "recommendation": "grant"},
                        department=department)
        center.complete(key, "Task_section_review", f"{department}_head", {"opinion": "同意", "agree": True},
                        department=department)
        center.complete(key, "Task_chief_decision", f"{department}_chief", GRANT, department=department)
    # the discharge permit is written review only and delegated: the representative decides on the spot
    center.complete(key, "Task_chief_decision", "ecology_chief", {
        "decision": "refuse", "opinion": "不予许可", "sealConfirmed": True, "decisionReasons": "未按规定安装油烟净化设施"})
    assert center.work() == ["notify-departments"]
    for department in ("market", "housing", "ecology"):
        assert "未按规定安装油烟净化设施" in box.to(f"{department}@qingpu.gov.cn")[-1].get_content()
    found = center.variables(key)
    assert [r["decision"] for r in found["memberResults"]] == ["grant", "grant", "refuse"]
    assert center.waiting(key) == ["Task_combined_answer"]
    return key


def test_bundle_with_three_departments_one_refusing_gets_one_combined_answer(center, smtp, seal_dir):
    box, _ = smtp
    key = bundle_with_ecology_refusing(center, box)
    center.complete(key, "Task_combined_answer", "window", {"issueGranted": True, "answerText": "排污许可不予许可，其余两项准予许可"})
    assert center.work() == ["certificate", "decision-letter", "result-notice"]
    found = center.variables(key)
    assert [c["itemCode"] for c in found["certificates"]] == ["310118-SCJ-002", "310118-JSGL-002"]
    for made in [*found["certificates"], found["decisionLetter"], found["resultNotice"]]:
        verify_signed(made["file"], seal_dir)
    # each department seals its own licence and its own refusal; the window signs the one answer
    assert [signer_of(c["file"]) for c in found["certificates"]] == ["上海市青浦区市场监督管理局 审批专用章",
                                                                     "上海市青浦区建设管理委员会 审批专用章"]
    assert [signer_of(d["file"]) for d in found["decisionLetters"]] == ["上海市青浦区生态环境局 审批专用章"]
    assert signer_of(found["resultNotice"]["file"]) == "上海市青浦区政务服务中心 审批专用章"
    answer = pdf_text(found["resultNotice"]["file"])
    for expected in (f"食品经营许可（新办）（区市场监督管理局）：准予许可，证照编号 {key}-01", f"证照编号 {key}-02",
                     "（区生态环境局）：不予许可，理由：未按规定安装油烟净化设施", "排污许可不予许可，其余两项准予许可",
                     "行政复议", "行政诉讼"):
        assert expected in answer, (expected, answer)
    # the applicant hears once: the receipt, then one combined answer (no separate licence or refusal mails)
    subjects = [m["Subject"].split(" ")[0] for m in box.to(APPLICANT_MAIL)]
    assert subjects == ["【青浦政务服务】受理凭证", "【青浦政务服务】一件事办理结果"]
    letter = box.to(APPLICANT_MAIL)[-1].get_content()
    assert "排污许可证核发（简化管理）（区生态环境局）：不予许可，理由：未按规定安装油烟净化设施" in letter
    assert "行政诉讼" in letter
    assert center.waiting(key) == ["Task_delivery"]


def test_bundle_whose_applicant_declines_the_granted_part_gets_refusals_only_and_one_answer(center, smtp, seal_dir):
    """The window and the applicant agree not to issue the two licences (a restaurant cannot open without
    its discharge permit): no certificate is made, the refusal is written, the one answer says so."""
    box, _ = smtp
    key = bundle_with_ecology_refusing(center, box)
    center.complete(key, "Task_combined_answer", "window", {
        "issueGranted": False, "answerText": "申请人决定整改后重新申请，其余两项暂不出件"})
    assert center.work() == ["decision-letter", "result-notice"]
    found = center.variables(key)
    assert "certificates" not in found and found["decision"] == "refuse"
    answer = pdf_text(found["resultNotice"]["file"])
    assert "食品经营许可（新办）（区市场监督管理局）：准予许可，暂不出件" in answer
    assert "申请人决定整改后重新申请" in answer and "行政复议" in answer
    assert [signer_of(d["file"]) for d in found["decisionLetters"]] == ["上海市青浦区生态环境局 审批专用章"]
    assert [m["Subject"].split(" ")[0] for m in box.to(APPLICANT_MAIL)] == ["【青浦政务服务】受理凭证",
                                                                           "【青浦政务服务】一件事办理结果"]
    assert center.waiting(key) == ["Task_delivery"]


def test_instant_item_runs_start_to_finish_in_one_visit(center, smtp):
    start = center.clock.now()
    key = center.receive(SOLE_TRADER, PERSON, [{"code": "application-form"}, {"code": "premises"}])
    assert center.work() == ["shared-data", "materials-check", "acceptance-receipt"]  # 收件即受理: no review
    center.complete(key, "Task_chief_decision", "market_chief", GRANT)
    assert center.work() == ["certificate", "result-notice"]
    center.complete(key, "Task_delivery", "window", {"deliveryMethod": "window", "recipientName": "沈小明"})
    center.work()
    center.message("rating-received", key, {"rating": "满意"})
    assert center.status(key) == "completed" and center.clock.now() == start
    clock = clock_of(center, key)
    assert clock.accepted_at == clock.received_at and clock.closed_at <= clock.promised_deadline_at


def test_bad_rating_opens_return_visit_and_rectification_and_silence_records_the_default(center):
    by_mail = {"deliveryMethod": "mail", "recipientName": "陆青禾", "address": "上海市青浦区盈港东路1号",
               "trackingNumber": "SF1234567890"}
    bad, silent = delivered(center, by_mail), delivered(center, by_mail)
    with pytest.raises(FormInvalid, match="评价"):
        center.message("rating-received", bad, {"rating": "差"})
    with pytest.raises(Forbidden, match="only from applicant, portal"):  # the window does not rate its own service
        center.message("rating-received", bad, {"rating": "非常满意"}, user="window")
    with center.sessions.begin() as session, pytest.raises(BadUserRequest, match="not to all waiting cases"):
        from engine import messages
        messages.correlate(session, "rating-received", variables={"rating": "满意"}, all_matches=True, actor="portal",
                           actor_groups=["portal"])
    center.message("rating-received", bad, {"rating": "不满意", "ratingComment": "窗口等候时间太长", "realName": True})
    assert center.waiting(bad) == ["Task_return_visit"]
    center.complete(bad, "Task_return_visit", "supervisor", {"visitMethod": "phone", "visitResult": "申请人反映等候超过一小时",
                                                             "complaintValid": True})
    rectify = center.tasks(bad)[0]
    assert rectify.activity_id == "Task_rectification" and rectify.candidate_groups == ["culture:section-head"]
    center.complete(bad, "Task_rectification", "culture_head", {"measures": "高峰时段增开窗口", "feedback": "已电话反馈申请人"})
    assert center.status(bad) == "completed"
    center.pass_days(8)  # five working days pass without a rating
    assert center.status(silent) == "completed"
    found = center.variables(silent)
    assert found["rating"] == "满意" and found["ratingSource"] == "default"


@pytest.mark.settings(rating_wait_days=3, rating_default="基本满意", bad_rating_fix_days=10)
def test_the_rating_period_the_default_and_the_fix_deadline_follow_the_settings(center, smtp):
    box, _ = smtp
    silent, bad = delivered(center), delivered(center)  # Monday 2026-01-05, 09:00
    assert "3个工作日内未评价的，记为“基本满意”" in box.to(APPLICANT_MAIL)[-1].get_content()
    center.message("rating-received", bad, {"rating": "非常不满意", "realName": True})
    visit = center.tasks(bad)[0]  # a real-name bad rating: a return visit by the next working day
    assert visit.activity_id == "Task_return_visit"
    assert visit.due_at.astimezone(SHANGHAI) == datetime(2026, 1, 6, 17, 0, tzinfo=SHANGHAI)
    center.complete(bad, "Task_return_visit", "supervisor", {"visitMethod": "phone", "visitResult": "等候时间过长",
                                                             "complaintValid": True})
    rectify = center.tasks(bad)[0]  # ten working days to rectify, counted from the visit
    assert rectify.due_at.astimezone(SHANGHAI) == datetime(2026, 1, 19, 17, 0, tzinfo=SHANGHAI)
    center.pass_days(3 + 7 / 24)  # Thursday 16:00: the third working day has not ended
    assert center.status(silent) == "running" and "rating" not in center.variables(silent)
    center.pass_days(2 / 24)  # Thursday 18:00
    found = center.variables(silent)
    assert center.status(silent) == "completed"
    assert found["rating"] == "基本满意" and found["ratingSource"] == "default"


def test_a_complaint_found_not_valid_closes_without_rectification_and_delivery_needs_the_issue_letter(center):
    key = center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "culture_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(key, "Task_chief_decision", "culture_chief", GRANT)
    center.work()
    with center.sessions.begin() as session:
        from engine import identity
        identity.create_user(session, "window3", None, groups=["window-clerk"], department="center")
    delivery = {"deliveryMethod": "window", "recipientName": "陆青禾"}
    with pytest.raises(Forbidden, match="'window3' holds no authorization for 'issue'"):
        center.complete(key, "Task_delivery", "window3", delivery)
    center.complete(key, "Task_delivery", "window2", delivery)
    center.work()
    center.message("rating-received", key, {"rating": "非常不满意", "realName": True})
    center.complete(key, "Task_return_visit", "supervisor", {"visitMethod": "phone", "visitResult": "申请人误解了办理时限",
                                                             "complaintValid": False})
    assert center.status(key) == "completed" and "Task_rectification" not in center.completed(key)


def test_receiving_is_for_the_window_and_the_application_form_is_enforced(center):
    with pytest.raises(Forbidden, match="综合窗口"):
        center.receive(FOOD_CHANGE, ENTERPRISE, user="market_clerk")
    with center.sessions.begin() as session:
        from engine import identity
        identity.create_user(session, "window3", None, groups=["window-clerk"], department="center")
    with pytest.raises(Forbidden, match="'window3' holds no authorization for 'receive'"):
        center.receive(FOOD_CHANGE, ENTERPRISE, user="window3")  # a window clerk without a letter
    broken = {**ENTERPRISE, "creditCode": "123", "phone": "", "extra": "x"}
    del broken["applicantName"]
    with pytest.raises(FormInvalid) as invalid:
        center.receive(FOOD_CHANGE, broken)
    assert invalid.value.fields == {
        "applicantName": "「单位名称」为必填项", "creditCode": "「统一社会信用代码」应为18位，由数字和大写字母组成",
        "extra": "表单中没有「extra」这一项，请勿提交", "phone": "「联系电话」应为11位手机号或带区号的固定电话"}
    assert center.receive(FOOD_CHANGE, ENTERPRISE, user="portal", channel="online")


def test_a_case_keeps_the_item_version_it_was_accepted_under(center):
    before = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    with center.sessions.begin() as session:
        item = catalogue.current_version(session, FOOD_CHANGE)
        data = {name: getattr(item, name) for name in ("code", "name", "department", "item_type", "case_type",
                "legal_limit_days", "accepted_on_receipt", "written_review_only", "site_survey",
                "site_survey_suspends_clock", "handling", "process_key", "form_key", "status")}
        catalogue.put_item(session, {**data, "promised_limit_days": 3, "details": item.details}, actor="admin")
    after = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert (center.variables(before)["itemVersion"], center.variables(before)["promisedLimitDays"]) == (1, 5)
    assert (center.variables(after)["itemVersion"], center.variables(after)["promisedLimitDays"]) == (2, 3)
    assert (clock_of(center, before).promised_limit_days, clock_of(center, after).promised_limit_days) == (5, 3)


@pytest.mark.parametrize(("item", "department", "materials", "joint"), [
    ("310118-JSGL-003", "housing", ("application-form", "disposal-plan", "transport"), True),  # 联办件
    ("310118-STHJ-001", "ecology", ("application-form", "eia-report"), False),  # 报批件
], ids=["joint", "escalated"])
def test_joint_and_escalated_items_are_pre_reviewed_by_the_representative_and_decided_by_the_department(
        center, item, department, materials, joint):
    key = center.receive(item, ENTERPRISE, [{"code": c} for c in materials])
    center.work()
    center.complete(key, "Task_acceptance_review", f"{department}_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    assert center.waiting(key) == ["Task_chief_prereview"]
    assert clock_of(center, key).joint_handling is joint  # 45 working days for joint handling (art. 42)
    center.complete(key, "Task_chief_prereview", f"{department}_chief", {"opinion": "材料齐全，建议准予", "recommendation": "grant"})
    with pytest.raises(Forbidden):  # the representative pre-reviews; the department decides
        center.complete(key, "Task_section_review", f"{department}_chief", {"opinion": "同意", "agree": True})
    center.complete(key, "Task_section_review", f"{department}_head", {"opinion": "同意预审意见", "agree": True})
    center.complete(key, "Task_department_decision", f"{department}_leader",
                    {"decision": "grant", "opinion": "准予", "sealConfirmed": True})
    assert center.work() == ["certificate", "result-notice"]
    assert "Task_chief_decision" not in center.completed(key)


def test_a_site_survey_does_not_stop_the_clock_unless_the_item_says_so(center):
    key = center.receive(FOOD_LICENCE, ENTERPRISE, ALL_FOOD_MATERIALS)
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(key, "Task_handoff", "market_clerk", {"surveyScope": "核查经营场所", "surveyLimitDays": 3})
    assert clock_of(center, key).suspended_since is None  # rule 5: a survey is not an art. 45 procedure
    survey = center.tasks(key)[0]
    assert survey.activity_id == "Task_site_survey"
    assert survey.due_at.astimezone(SHANGHAI) == datetime(2026, 1, 8, 17, 0, tzinfo=SHANGHAI)


def test_items_outside_the_delegated_list_are_decided_by_the_department_leader_not_the_reviewer(center):
    """Planning's representative holds a letter for one item only; the other goes to the department leader,
    who must be a different person from the section head who reviewed it."""
    key = center.receive("310118-GHZY-002", PERSON, [{"code": c} for c in ("application-form", "village", "site-plan")])
    center.work()
    center.complete(key, "Task_acceptance_review", "planning_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(key, "Task_handoff", "planning_clerk", {"surveyScope": "宅基地四至", "surveyLimitDays": 3})
    center.complete(key, "Task_site_survey", "planning_specialist", {
        "inspectors": [{"name": "孙浩", "staffId": "GH-01"}, {"name": "李娜", "staffId": "GH-02"}],
        "surveyDate": "2026-01-06", "findings": "四至与申请一致", "surveyConclusion": "符合"})
    center.complete(key, "Task_report_receipt", "planning_clerk", {"remark": "已接收"})
    assert center.variables(key)["delegatedToChief"] is False
    center.complete(key, "Task_handling_review", "planning_clerk", {"opinion": "符合规划", "recommendation": "grant"})
    with center.sessions.begin() as session:  # a head who also leads the department (holds both roles)
        from engine.models import User
        head = session.get(User, "planning_head")
        head.groups = ["section-head", "department-leader"]
        authorizations.grant(session, username="planning_head", department="planning", kind=authorizations.LEADER,
                             powers=["decide", "seal"], valid_from=datetime(2026, 1, 1).date(),
                             valid_to=datetime(2026, 12, 31).date(), signed_by="区规划和自然资源局局长")
    center.complete(key, "Task_section_review", "planning_head", {"opinion": "同意", "agree": True})
    assert center.waiting(key) == ["Task_department_decision"]
    decision = {"decision": "grant", "opinion": "准予许可", "sealConfirmed": True}
    with pytest.raises(Forbidden, match="different person"):
        center.complete(key, "Task_department_decision", "planning_head", decision)
    with pytest.raises(Forbidden, match="planning:department-leader"):
        center.complete(key, "Task_department_decision", "planning_chief", decision)  # not the department's leader
    center.complete(key, "Task_department_decision", "planning_leader", decision)
    assert center.work() == ["certificate", "result-notice"]
