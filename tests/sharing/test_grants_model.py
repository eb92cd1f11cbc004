"""A stateful property test: after every step, what each force sees through the API equals what a plain
Python model of the agreements says it should see, masking included."""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import unique_name

# Lakeshire and Moorshire are dedicated forces (a database each): what either provides is read through its own
# database's policies, what it consumes from the provider's. With Southshire (pooled) they make lakes-and-moors.
FORCES = ("northshire", "southshire", "westshire", "lakeshire", "moorshire")
COLLABORATION = {"tri-shire": ("northshire", "southshire", "westshire"),
                 "lakes-and-moors": ("lakeshire", "moorshire", "southshire")}
COLLABORATION_ADMIN = {"tri-shire": ("northshire", "collab-admin-1"),
                       "lakes-and-moors": ("moorshire", "collab-admin-moor")}
PURPOSE = {"X-Purpose": "model-based check"}
LEVELS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


@dataclass
class Person:
    id: str
    owner: str
    classification: str
    do_not_share: bool
    forenames: str
    surname: str


@dataclass
class Agreement:
    id: str
    provider: str
    consumers: tuple[str, ...]
    max_classification: str
    masks_dob: bool
    collaboration: str | None  # the consumer collaboration's slug
    status: str = "proposed"
    expired: bool = False
    approvals: set[str] = field(default_factory=set)

    def shares(self) -> bool:
        return self.status == "active" and not self.expired


class SharingModel(RuleBasedStateMachine):
    """Drives the API as officers, force admins and the collaborations' administrators of three pooled forces and
    two dedicated ones."""

    api = None  # set by the test: a factory as_user(slug, *roles, user=...)
    connections = None  # the test's connection to each database, rolled back to a savepoint after each run

    people = Bundle("people")
    agreements = Bundle("agreements")

    @initialize()
    def start(self):
        self.savepoints = [connection.begin_nested() for connection in SharingModel.connections]
        self.model_people: dict[str, Person] = {}
        self.model_agreements: dict[str, Agreement] = {}
        officer = {f: SharingModel.api(f, "investigator", user=f"{f}-officer") for f in FORCES}
        admin = {f: SharingModel.api(f, "force_admin", user=f"{f}-admin") for f in FORCES}
        self.officer, self.admin = officer, admin
        self.collab_admin = {c: SharingModel.api(slug, "collaboration_admin", user=user)
                             for c, (slug, user) in COLLABORATION_ADMIN.items()}

    def teardown(self):
        for savepoint in getattr(self, "savepoints", ()):
            if savepoint.is_active:
                savepoint.rollback()

    @rule(target=people, owner=st.sampled_from(FORCES), level=st.sampled_from(LEVELS), restricted=st.booleans())
    def create_person(self, owner, level, restricted):
        body = {"surname": unique_name("Model"), "forenames": "Ann", "sex": "female", "date_of_birth": "1980-01-02",
                "classification": level, "do_not_share": restricted}
        response = self.officer[owner].post("/api/v1/people?confirm_new=true", json=body)
        assert response.status_code == 201, response.get_json()
        person = Person(response.get_json()["id"], owner, level, restricted, "Ann", body["surname"])
        self.model_people[person.id] = person
        return person.id

    @rule(person_id=people, name=st.sampled_from(("Beth", "Cara", "Dee")))
    def rename(self, person_id, name):
        person = self.model_people[person_id]
        api = self.officer[person.owner]
        version = api.get(f"/api/v1/people/{person_id}").headers["ETag"]
        response = api.patch(f"/api/v1/people/{person_id}", json={"forenames": name}, headers={"If-Match": version})
        assert response.status_code == 200, response.get_json()
        person.forenames = name

    @rule(target=agreements, provider=st.sampled_from(FORCES), consumer=st.sampled_from(FORCES + tuple(COLLABORATION)),
          level=st.sampled_from(LEVELS), masks_dob=st.booleans(), already_over=st.booleans())
    def propose(self, provider, consumer, level, masks_dob, already_over):
        collaboration = consumer in COLLABORATION
        if consumer == provider or (collaboration and provider not in COLLABORATION[consumer]):
            consumer = next((c for c in COLLABORATION if provider in COLLABORATION[c]), "northshire")
            collaboration = consumer in COLLABORATION
        body = {"record_types": ["person"], "max_classification": level, "purpose": "model purpose",
                "lawful_basis": "model basis", "field_profile": {"person": {"masked": ["date_of_birth"] if masks_dob
                                                                              else []}},
                # in force from the past: each database's now() is frozen at its test transaction's start
                "valid_from": "2020-01-01T00:00:00+00:00"}
        body["consumer_collaboration" if collaboration else "consumer_force"] = consumer
        if already_over:
            body.update(valid_from="2020-01-01T00:00:00+00:00", valid_to="2020-06-01T00:00:00+00:00")
        response = self.admin[provider].post("/api/v1/sharing/agreements", json=body)
        if already_over:  # refused and nothing written: an agreement cannot be proposed already ended
            assert response.status_code == 422 and "valid_to" in response.get_json()["errors"], response.get_json()
            return multiple()
        assert response.status_code == 201, response.get_json()
        consumers = tuple(f for f in COLLABORATION[consumer] if f != provider) if collaboration else (consumer,)
        agreement = Agreement(response.get_json()["id"], provider, consumers, level, masks_dob,
                              consumer if collaboration else None)
        self.model_agreements[agreement.id] = agreement
        return agreement.id

    @rule(target=agreements, provider=st.sampled_from(FORCES), consumer=st.sampled_from(FORCES + tuple(COLLABORATION)),
          level=st.sampled_from(LEVELS), masks_dob=st.booleans())
    def share(self, provider, consumer, level, masks_dob):
        """Propose and approve at once (every approval the agreement needs): the common case, reached often."""
        agreement_id = self.propose(provider, consumer, level, masks_dob, already_over=False)
        self.approve(agreement_id, by_collaboration_admin=False)
        if self.model_agreements[agreement_id].collaboration:
            self.approve(agreement_id, by_collaboration_admin=True)
        return agreement_id

    @rule(agreement_id=agreements, by_collaboration_admin=st.booleans())
    def approve(self, agreement_id, by_collaboration_admin):
        agreement = self.model_agreements[agreement_id]
        # another agreement's collaboration administrator is tri-shire's: none of its own
        actor = (self.collab_admin[agreement.collaboration or "tri-shire"] if by_collaboration_admin
                 else self.admin[agreement.provider])
        response = actor.post(f"/api/v1/sharing/agreements/{agreement_id}/approve", json={"reason": "model"})
        if by_collaboration_admin and not agreement.collaboration:
            # not an administrator of this agreement: refused, or not even visible to their force
            assert response.status_code in (403, 404), response.get_json()
            return
        if agreement.status != "proposed":
            assert response.status_code == 409, response.get_json()
            return
        assert response.status_code == 200, response.get_json()
        agreement.approvals.add("collaboration" if by_collaboration_admin else "provider")
        collaboration_approved = "collaboration" in agreement.approvals or not agreement.collaboration
        if "provider" in agreement.approvals and collaboration_approved:
            agreement.status = "active"

    @rule(agreement_id=agreements, action=st.sampled_from(("suspend", "reinstate", "revoke")))
    def transition(self, agreement_id, action):
        agreement = self.model_agreements[agreement_id]
        response = self.admin[agreement.provider].post(f"/api/v1/sharing/agreements/{agreement_id}/{action}",
                                                       json={"reason": "model"})
        status = "expired" if agreement.status == "active" and agreement.expired else agreement.status
        allowed = {"suspend": ("active",), "reinstate": ("suspended",), "revoke": ("active", "suspended", "proposed")}
        if status not in allowed[action]:
            assert response.status_code == 409, response.get_json()
            return
        assert response.status_code == 200, response.get_json()
        agreement.status = {"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}[action]

    @rule(person_id=people, viewer=st.sampled_from(FORCES))
    def search(self, person_id, viewer):
        """A search by the person's surname, which reaches every database involved, finds them exactly when a read
        by id does, masked alike."""
        person = self.model_people[person_id]
        visible, masked = self.expected(viewer, person)
        response = self.officer[viewer].get("/api/v1/people/search", query_string={"name": person.surname},
                                            headers=PURPOSE)
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["items"]
        assert [i["id"] for i in items] == ([person.id] if visible else []), (viewer, person, items)
        if visible:
            assert (items[0]["date_of_birth"] is None) == masked, (viewer, person, items)

    def expected(self, viewer: str, person: Person) -> tuple[bool, bool]:
        """(visible, date of birth masked) for a viewer, from the model alone."""
        if viewer == person.owner:
            return True, False
        applicable = [a for a in self.model_agreements.values()
                      if a.shares() and a.provider == person.owner and viewer in a.consumers]
        reaches = [a for a in applicable if LEVELS.index(person.classification) <= LEVELS.index(a.max_classification)]
        if person.do_not_share or not reaches:
            return False, False
        return True, any(a.masks_dob for a in applicable)

    @invariant()
    def every_force_sees_what_the_model_says(self):
        if not hasattr(self, "model_people"):
            return
        for person in self.model_people.values():
            for viewer in FORCES:
                visible, masked = self.expected(viewer, person)
                response = self.officer[viewer].get(f"/api/v1/people/{person.id}", headers=PURPOSE)
                assert (response.status_code == 200) == visible, (viewer, person, response.get_json())
                if visible:
                    body = response.get_json()
                    assert body["forenames"] == person.forenames
                    assert (body["date_of_birth"] is None) == masked, (viewer, person, body)


def test_what_each_force_sees_matches_the_model_of_the_agreements(as_user, services):
    SharingModel.api = staticmethod(as_user)
    SharingModel.connections = list(services.databases.overrides.values())
    run_state_machine_as_test(SharingModel, settings=settings(
        max_examples=24, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
