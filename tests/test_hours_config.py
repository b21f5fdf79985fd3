"""The `hours` section of the configuration file: export → import → export gives the same data,
bad data is refused naming where the problem is, and then nothing changes."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import Session, select

from admin import hours_config
from counter.hours import Closure, OpeningRange
from counter.models import Office, Service
from frontyard import database
from frontyard.errors import ValidationFailed

DATA = {
    "closed_on_national_holidays": False,
    "weekly": {"mon": "08:30-12:00, 13:00-17:15", "tue": "08:30-17:15", "sat#1": "09:00-12:00",
               "sat#3": "09:00-12:00"},
    "closures": [{"name": "年末年始", "first_day": "2026-12-29", "last_day": "2027-01-03"},
                 {"name": "Cleaning", "first_day": "2027-03-01", "last_day": "2027-03-01"}],
    "services": {"zei": {"weekly": {"mon": "08:30-12:00"}, "cutoff_minutes": 30}},
}


@pytest.fixture
def office(engine) -> None:  # type: ignore[no-untyped-def]
    """The office `kita` with services `zei` and `nenkin`."""
    with database.session_scope(engine) as session:
        office = Office(code="kita", names={"ja": "北支所"})
        session.add(office)
        session.flush()
        session.add_all([Service(office_id=office.id, code="zei", prefix="Z", names={"ja": "税"}),
                         Service(office_id=office.id, code="nenkin", prefix="N",
                                 names={"ja": "年金"}, sort_order=1)])


def _kita(session: Session) -> Office:
    return session.exec(select(Office).where(Office.code == "kita")).one()


def test_the_section_round_trips(engine, office):
    """Import then export gives the same data, through YAML too (dates unquoted)."""
    assert hours_config.CONFIG_SECTION == "hours"
    with database.session_scope(engine) as session:
        hours_config.import_config(session, _kita(session), DATA)
    with database.session_scope(engine) as session:
        exported = hours_config.export_config(session, _kita(session))
    assert exported == DATA
    text = yaml.safe_dump(exported, allow_unicode=True).replace("'2026-12-29'", "2026-12-29")
    with database.session_scope(engine) as session:
        hours_config.import_config(session, _kita(session), yaml.safe_load(text))
        assert hours_config.export_config(session, _kita(session)) == DATA
    with database.session_scope(engine) as session:
        hours_config.import_config(session, _kita(session), {})  # replace with nothing
        assert hours_config.export_config(session, _kita(session)) == {
            "closed_on_national_holidays": True, "weekly": {}, "closures": [], "services": {}}


@pytest.mark.parametrize(("change", "where"), [
    ({"weekly": {"mon": "17:00-09:00"}}, "hours.weekly.mon"),
    ({"weekly": {"funday": "09:00-10:00"}}, "hours.weekly.funday"),
    ({"weekly": ["mon"]}, "hours.weekly"),
    ({"closed_on_national_holidays": "yes"}, "hours.closed_on_national_holidays"),
    ({"closures": [{"name": "x", "first_day": "2027-01-03", "last_day": "2026-12-29"}]},
     "hours.closures[0].last_day"),
    ({"closures": [{"first_day": "2027-01-03"}]}, "hours.closures[0].name"),
    ({"closures": "never"}, "hours.closures"),
    ({"services": {"nope": {}}}, "hours.services.nope"),
    ({"services": {"zei": {"cutoff_minutes": "30"}}}, "hours.services.zei.cutoff_minutes"),
    ({"services": {"zei": {"weekly": {"mon": "25:00-26:00"}}}}, "hours.services.zei.weekly.mon"),
    ({"colour": "red"}, "hours.colour"),
])
def test_bad_data_is_refused_naming_where(engine, office, change, where):
    """A clear message with the place in the data; what was there stays."""
    with database.session_scope(engine) as session:
        hours_config.import_config(session, _kita(session), DATA)
    with database.session_scope(engine) as session, pytest.raises(ValidationFailed) as refused:
        hours_config.import_config(session, _kita(session), {**DATA, **change})
    assert str(refused.value).startswith(where + ":"), str(refused.value)
    with Session(engine) as session:
        assert len(session.exec(select(Closure)).all()) == 2
        assert len(session.exec(select(OpeningRange)).all()) == 6
