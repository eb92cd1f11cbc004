"""The custody suite's staff of northshire, for every custody test."""
from __future__ import annotations

import pytest


@pytest.fixture
def sergeant(as_user):
    return as_user("northshire", "custody_officer", user="ps-custody-1")


@pytest.fixture
def inspector(as_user):
    return as_user("northshire", "custody_inspector", user="insp-1")


@pytest.fixture
def superintendent(as_user):
    return as_user("northshire", "superintendent", user="supt-1")
