"""Report files any front end hands out: the Excel workbooks of ``domain.reports``."""
