"""The shared vocabulary of tcup, the collector service and the scoring engine.

Standard library only: no I/O, no configuration, no globals.
"""

from interop_model.compliance import (
    CapabilityResult,
    ComplianceReport,
    ExemptedTest,
    TestVerdict,
    Verdicts,
    evaluate,
    judge_verdicts,
)
from interop_model.errors import InteropModelError, InvalidGuideline, InvalidRunDocument, UnknownTarget
from interop_model.guideline_loader import detect_schema, guideline_from_dict, load_guideline_text
from interop_model.guidelines import (
    CRITERIA_ORDER,
    STATUSES,
    Capability,
    Component,
    Criterion,
    Flag,
    Guideline,
    GuidelineWarning,
    Program,
    Status,
    TestEntry,
    parse_statuses,
)
from interop_model.results import CaseResult, Outcome, Provenance, RunReport, RunSelection, parse_test_id

__all__ = [
    "CRITERIA_ORDER",
    "STATUSES",
    "Capability",
    "CapabilityResult",
    "CaseResult",
    "ComplianceReport",
    "ExemptedTest",
    "Component",
    "Criterion",
    "Flag",
    "Guideline",
    "GuidelineWarning",
    "InteropModelError",
    "InvalidGuideline",
    "InvalidRunDocument",
    "Outcome",
    "Program",
    "Provenance",
    "RunReport",
    "RunSelection",
    "Status",
    "TestEntry",
    "TestVerdict",
    "UnknownTarget",
    "Verdicts",
    "detect_schema",
    "evaluate",
    "guideline_from_dict",
    "judge_verdicts",
    "load_guideline_text",
    "parse_statuses",
    "parse_test_id",
]
