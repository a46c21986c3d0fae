"""Conformance runners: upstream test tables run against netplex's own tools."""
