"""`alto demo`: the whole story on Adult, from raw CSV in the lake to an A/B-tested, promoted model."""

from altostratus.demo.report import format_report, result_dict
from altostratus.demo.story import DemoOptions, DemoResult, run_story

__all__ = ["DemoOptions", "DemoResult", "format_report", "result_dict", "run_story"]
