"""The build quality report: ``report/report.md``, ``report/report.html`` (self-contained) and PNG charts."""

from .build_dir import BuildData, load_build, write_build
from .render import write_report

__all__ = ["write_report", "load_build", "write_build", "BuildData"]
