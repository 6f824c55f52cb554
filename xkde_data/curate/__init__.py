"""Curation: translation QA filters with reason codes, accounting and calibration.

Public API: :class:`~xkde_data.curate.langid.LanguageIdentifier`,
:class:`~xkde_data.curate.config.CurationConfig`, :func:`curate_stage`,
:func:`~xkde_data.curate.accounting.build_stats`, :func:`~xkde_data.curate.accounting.check_accounting`.
"""
