"""Code sets (代码集) of the item catalogue, in the style of GB/T 39046-2020 (政务服务平台基础数据规范).

Each set maps a stable code to its Chinese name. Validation accepts the code or the
name and stores one of them (``CodeSet.normalize``); exports write the name (the
clerks who fill the catalogue sheet read and type names; an import takes either), so
a sheet round-trips. Codes never change once published: a renamed entry keeps its
code, a withdrawn one keeps its code reserved.

What our material says (../shared/DOMAIN.md): case types 1 即办件, 2 承诺件, 9 其他, and
the five rating levels of 好差评 (国办发〔2019〕51号). The standard's own code tables
for item type, handling form and online handling depth are not in our material; the
codes below for those follow the national basic catalogue's usual numbering as far as
we know it and are marked where they are ours. Check them against the standard's text
before exchanging data with the national platform; until then they are onewindow's
codes and stay as they are.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping


@dataclass(frozen=True)
class CodeSet:
    """One code set: ``code → name`` in publication order."""

    #: the field the set codes, in English (for messages)
    title: str
    entries: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        names = list(self.entries.values())
        if len(set(names)) != len(names):
            raise ValueError(f"code set '{self.title}' has a name twice")

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __iter__(self):
        return iter(self.entries)

    def name(self, code: str) -> str:
        """The entry's name; an unknown code is shown as it is (an old record read under a newer set)."""
        return self.entries.get(code, code)

    def code_of(self, value: object) -> str | None:
        """The code for a code or a name (surrounding spaces ignored), or None if it is neither."""
        text = str(value).strip() if value is not None else ""
        if text in self.entries:
            return text
        for code, name in self.entries.items():
            if name == text:
                return code
        return None

    def names(self) -> list[str]:
        return list(self.entries.values())

    def describe(self) -> str:
        """'1 即办件, 2 承诺件, 9 其他' — the allowed values, for a refusal."""
        return ", ".join(f"{code} {name}" for code, name in self.entries.items())


#: 事项类型. The national basic catalogue numbers the types of administrative power 01 行政许可,
#: 02 行政处罚, 03 行政强制, 04 行政征收, 05 行政给付, 06 行政检查, 07 行政确认, 08 行政奖励,
#: 09 行政裁决, 10 其他行政权力 (as far as we know; not in our material). The center receives only
#: the applications of the reform's scope (the Qingpu notice: 行政许可、行政确认、其他权力), so only
#: those are offered. YJS (一件事, a bundle of items, "高效办成一件事") is onewindow's own code, outside
#: the standard's numbering. The item record stores the type's *name* (as since migration 0003:
#: the engine routes a bundle by its name 一件事).
ITEM_TYPES = CodeSet("item type", {"01": "行政许可", "07": "行政确认", "10": "其他行政权力", "YJS": "一件事"})
BUNDLE = "一件事"

#: 办件类型, GB/T 39046-2020 (DOMAIN.md): stored as the code
CASE_TYPES = CodeSet("case type", {"1": "即办件", "2": "承诺件", "9": "其他"})
INSTANT = "1"

#: 办理形式 — how an application may be handed in. The standard's codes are not in our material;
#: these are onewindow's, in the order the national catalogue lists the forms.
HANDLING_FORMS = CodeSet("handling form", {"1": "窗口办理", "2": "网上办理", "3": "快递申请"})

#: 网上办理深度 — the four levels of the State Council's 互联网+政务服务 guide (I 办事指南网上发布,
#: II 表格下载、在线咨询, III 网上预审 with a check at the window, IV 全程网办); codes are the level.
ONLINE_DEPTHS = CodeSet("online handling depth", {"1": "办事指南网上发布", "2": "表格下载、在线咨询",
                                                  "3": "网上预审，现场核查", "4": "全程网办"})

#: 办理渠道 — where the one record is published and applications come in (同源发布: the window, the
#: 一网通办 portal, the 随申办 mobile app, self-service terminals). onewindow's codes.
CHANNELS = CodeSet("channel", {"1": "综合窗口", "2": "一网通办", "3": "随申办", "4": "自助终端"})

#: 评价等级 of 好差评: 1 (worst) to 5 (best), as the rating data exchange numbers them. Note that
#: ``engine.settings.RATING_LEVELS`` lists the names best first and the indicators' ``rated_1`` column
#: counts 非常满意: use ``rating_code`` to turn a name into the exchange code.
RATING_LEVELS = CodeSet("rating level", {"1": "非常不满意", "2": "不满意", "3": "基本满意", "4": "满意", "5": "非常满意"})

#: 事项状态 — the engine's codes (stored as they are): only active items take new applications
STATUSES = CodeSet("status", {"active": "在用", "suspended": "暂停", "cancelled": "取消"})

#: 办件方式 — how the decision is reached: standard items are decided by the approval section;
#: joint (联办件) and escalated (报批件) items are pre-reviewed by the chief affairs representative
#: and decided by the department. The engine's codes (stored as they are).
HANDLING = CodeSet("handling", {"standard": "普通件", "joint": "联办件", "escalated": "报批件"})

#: 材料形式 of a required material — onewindow's codes
MATERIAL_FORMS = CodeSet("material form", {"1": "原件", "2": "复印件", "3": "电子件", "4": "原件或电子件",
                                           "5": "电子证照", "6": "原件和复印件"})


def rating_code(name: str) -> str | None:
    """The exchange code (1–5) of a rating level's name."""
    return RATING_LEVELS.code_of(name)


def names(codeset: CodeSet, codes: Iterable[str]) -> list[str]:
    return [codeset.name(code) for code in codes]
