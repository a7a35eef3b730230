"""The exactly-once rules, each a pure function, each a table."""

from __future__ import annotations

from datetime import datetime

import pytest

from storepush import DraftExistsError, VersionCodeError
from storepush.bazaar import CommitFields, Package, Release
from storepush.bazaar._rules import (
    AfterCreate,
    CreateAnswer,
    Ours,
    Role,
    StartKind,
    StepKind,
    already_there,
    commit_differences,
    committed_check_due,
    contaminated,
    hashes_needed,
    judge_after_create,
    judge_commit_answer,
    judge_create_answer,
    judge_draft,
    judge_start,
    may_go_on_known_draft,
    on_contested,
    on_lost,
    version_conflicts,
    wait_before_using,
)

A, B, C, X = "a" * 40, "b" * 40, "c" * 40, "f" * 40
ARM64, V7 = frozenset({"arm64-v8a"}), frozenset({"armeabi-v7a"})
ALL: frozenset[str] = frozenset()
T1, T2 = datetime(2026, 12, 1, 8, 0, 0, 1), datetime(2026, 12, 1, 8, 0, 0, 2)


def pkg(sha1: str, code: int | None, abis: str = "all") -> Package:
    return Package(apk_size=1, sha1_hash=sha1, version_code=code, cpu_architectures=abis)


def rel(*packages: Package, created: datetime | None = T1) -> Release:
    return Release(packages=list(packages), creation_date=created)


def ours(*items: tuple[str | None, int | None, frozenset[str]]) -> list[Ours]:
    return [Ours(f"apks[{i}]", code, abis, sha1) for i, (sha1, code, abis) in enumerate(items)]


# -- invariant 2: version codes per architecture ---------------------------------------------

VERSION_TABLE = [
    # ours (code, abis), store packages (code, cpu_architectures) -> conflict?
    ((11, ALL), [(10, "all")], False),
    ((10, ALL), [(10, "all")], True),  # a rebuild with the same code
    ((10, ALL), [(11, "all")], True),  # an older job re-run
    ((10, ALL), [(11, "arm64-v8a")], True),  # all is compared with every architecture
    ((10, ARM64), [(11, "all")], True),  # and every architecture with all
    ((1011, V7), [(2010, "arm64-v8a")], False),  # per-ABI offsets keep working
    ((1011, V7), [(1010, "armeabi-v7a"), (2010, "arm64-v8a")], False),
    ((1010, V7), [(1010, "armeabi-v7a")], True),
    ((2010, ARM64), [(2011, "arm64-v8a,armeabi-v7a")], True),  # overlapping sets
    ((None, ALL), [(99, "all")], False),  # cannot be told: the store decides
    ((5, ALL), [(None, "all")], False),
    ((5, ALL), [], False),
]


@pytest.mark.parametrize(("own", "store", "conflict"), VERSION_TABLE)
def test_version_conflicts_table(
    own: tuple[int | None, frozenset[str]], store: list[tuple[int | None, str]], conflict: bool
) -> None:
    release = rel(*(pkg(f"{i:040d}", code, abis) for i, (code, abis) in enumerate(store)))
    found = version_conflicts(ours((A, *own)), [("committed", release)])
    assert bool(found) is conflict


def test_conflict_messages_name_the_code_and_sha1() -> None:
    committed = rel(pkg(B, 10))
    [rebuild] = version_conflicts(ours((A, 10, ALL)), [("committed", committed)])
    assert "version code 10 is already committed with SHA-1 " + B in rebuild.describe()
    assert "rebuild with the same version code" in rebuild.describe()
    [older] = version_conflicts(ours((A, 9, ALL)), [("published", committed)])
    assert "not above 10, already published" in older.describe()
    [same] = version_conflicts(ours((B, 10, ALL)), [("committed", rel(pkg(B, 10), pkg(C, 11)))])
    assert "this same file is already there" in same.describe()


# -- hashing only when needed -----------------------------------------------------------------

HASH_TABLE = [
    # our packages (sha1, code), store codes -> indices to hash
    ([(None, 2), (None, 3)], [5, 6], []),  # the common case: nothing to compare, no hash
    ([(None, 2), (None, 3)], [3], [1]),
    ([(None, 2), (A, 3)], [2, 3], [0]),  # a known SHA-1 is not taken again
    ([(None, None)], [7], [0]),  # a code that cannot be read must be hashed
    ([(None, 2)], [None], [0]),  # so must a store package of unknown code
    ([(None, 2)], [], []),
]


@pytest.mark.parametrize(("own", "codes", "wanted"), HASH_TABLE)
def test_hashes_needed_table(
    own: list[tuple[str | None, int | None]], codes: list[int | None], wanted: list[int]
) -> None:
    packages = [pkg(X, code) for code in codes]
    assert hashes_needed(ours(*((s, c, ALL) for s, c in own)), packages) == wanted


# -- the first decision -------------------------------------------------------------------------

START_TABLE = [
    # draft, committed, published, policy, journal -> kind, role
    (None, None, None, "fail", False, StartKind.CREATE, None),
    (None, rel(pkg(A, 2), pkg(B, 3)), None, "fail", False, StartKind.ALREADY, None),
    (None, rel(pkg(C, 9)), rel(pkg(A, 2), pkg(B, 3)), "fail", False, StartKind.REFUSE, None),
    (None, None, rel(pkg(A, 2), pkg(B, 3)), "fail", False, StartKind.REFUSE, None),
    (None, rel(pkg(C, 5)), None, "fail", False, StartKind.REFUSE, None),
    (None, rel(pkg(C, 1)), None, "fail", False, StartKind.CREATE, None),
    (rel(), None, None, "fail", False, StartKind.USE, Role.ADOPTER),  # a dead run's
    (rel(), None, None, "fail", True, StartKind.USE, Role.CREATOR),  # ours, says the journal
    (rel(pkg(A, 2)), None, None, "fail", False, StartKind.USE, Role.OWNER),
    (rel(pkg(A, 2), pkg(B, 3)), None, None, "fail", False, StartKind.USE, Role.OWNER),
    (rel(pkg(C, 7)), None, None, "fail", False, StartKind.REFUSE, None),
    (rel(pkg(A, 2), pkg(C, 7)), None, None, "fail", False, StartKind.REFUSE, None),
    (rel(pkg(C, 7)), None, None, "reuse", False, StartKind.USE, Role.REUSER),
    (rel(pkg(C, 7)), None, None, "replace", False, StartKind.REPLACE, None),
    (rel(), None, None, "replace", False, StartKind.REPLACE, None),
]


@pytest.mark.parametrize(
    ("draft", "committed", "published", "policy", "journal", "kind", "role"), START_TABLE
)
def test_judge_start_table(
    draft: Release | None,
    committed: Release | None,
    published: Release | None,
    policy: str,
    journal: bool,
    kind: StartKind,
    role: Role | None,
) -> None:
    start = judge_start(
        draft=draft,
        committed=committed,
        published=published,
        ours=ours((A, 2, ALL), (B, 3, ALL)),
        policy=policy,
        journal_mine=journal,
    )
    assert start.kind is kind
    assert start.role is role
    if kind is StartKind.REFUSE:
        assert isinstance(start.error, VersionCodeError | DraftExistsError)


def test_a_draft_of_another_build_is_refused_with_the_policies_as_remedies() -> None:
    start = judge_start(
        draft=rel(pkg(C, 7)),
        committed=None,
        published=None,
        ours=ours((A, 2, ALL)),
        policy="fail",
    )
    assert isinstance(start.error, DraftExistsError)
    assert [(r.option, r.value) for r in start.error.remedies] == [
        ("if_draft_exists", "reuse"),
        ("if_draft_exists", "replace"),
    ]
    assert start.error.describe(lambda r: f"--{r.option.replace('_', '-')} {r.value}").endswith(
        "--if-draft-exists reuse; or --if-draft-exists replace"
    )


def test_reuse_accepts_exactly_the_foreign_packages() -> None:
    start = judge_start(
        draft=rel(pkg(A, 2), pkg(C, 7)),
        committed=None,
        published=None,
        ours=ours((A, 2, ALL)),
        policy="reuse",
    )
    assert start.accepted == frozenset({C})


# -- before each upload and before the commit ----------------------------------------------------

DRAFT_TABLE = [
    # draft, expected id, our sha1s (None: not known yet), accepted -> step, index
    (None, T1, [A, B], frozenset(), StepKind.LOST, -1),
    (rel(created=T2), T1, [A, B], frozenset(), StepKind.LOST, -1),  # replaced
    (rel(), T1, [None, None], frozenset(), StepKind.UPLOAD, 0),
    (rel(pkg(A, 2)), T1, [A, None], frozenset(), StepKind.UPLOAD, 1),
    (rel(pkg(A, 2), pkg(B, 3)), T1, [A, B], frozenset(), StepKind.COMMIT, -1),
    (rel(pkg(B, 3), pkg(A, 2)), T1, [A, B], frozenset(), StepKind.COMMIT, -1),
    (rel(pkg(A, 2), pkg(C, 9)), T1, [A, B], frozenset(), StepKind.CONTESTED, -1),
    (rel(pkg(A, 2), pkg(C, 9)), T1, [A, None], frozenset({C}), StepKind.UPLOAD, 1),
    (rel(pkg(A, 2), created=None), T1, [A], frozenset(), StepKind.COMMIT, -1),  # no dates
]


@pytest.mark.parametrize(("draft", "expected", "sha1s", "accepted", "kind", "index"), DRAFT_TABLE)
def test_judge_draft_table(
    draft: Release | None,
    expected: datetime,
    sha1s: list[str | None],
    accepted: frozenset[str],
    kind: StepKind,
    index: int,
) -> None:
    own = ours(*((s, 2 + i, ALL) for i, s in enumerate(sha1s)))
    step = judge_draft(draft, expected=expected, ours=own, accepted=accepted)
    assert step.kind is kind
    assert step.index == index


@pytest.mark.parametrize(
    ("kind", "go_on"),
    [
        (StepKind.UPLOAD, True),  # the first upload, on our create's answer or the start's read
        (StepKind.COMMIT, False),  # a commit always follows a fresh read
        (StepKind.LOST, False),
        (StepKind.CONTESTED, False),
    ],
)
def test_which_steps_may_go_on_the_draft_as_last_seen(kind: StepKind, go_on: bool) -> None:
    from storepush.bazaar._rules import Step

    assert may_go_on_known_draft(Step(kind)) is go_on


@pytest.mark.parametrize(
    ("role", "restarts", "keep"),
    [
        (Role.CREATOR, 0, True),
        (Role.OWNER, 2, True),
        (Role.CREATOR, 3, False),  # bounded
        (Role.ADOPTER, 0, False),  # an adopter backs off
        (Role.REUSER, 0, False),
    ],
)
def test_who_keeps_a_contested_draft(role: Role, restarts: int, keep: bool) -> None:
    assert on_contested(role, restarts) is keep


@pytest.mark.parametrize(
    ("role", "restarts", "again"),
    [
        (Role.ADOPTER, 0, True),  # its own package is in it: dead for everyone, start again
        (Role.REUSER, 1, True),
        (Role.ADOPTER, 3, False),  # bounded: back off (deleting it)
    ],
)
def test_a_draft_holding_our_package_beside_anothers_is_started_over(
    role: Role, restarts: int, again: bool
) -> None:
    assert on_contested(role, restarts, contaminated=True) is again


@pytest.mark.parametrize(
    ("role", "restarts", "again"),
    [
        (Role.CREATOR, 0, True),  # our draft was deleted under us: judged anew, like a re-run
        (Role.OWNER, 1, True),
        (Role.OWNER, 3, False),  # bounded
        (Role.ADOPTER, 0, False),  # the draft was taken back by its maker: back off
        (Role.REUSER, 0, False),
    ],
)
def test_who_starts_again_when_the_draft_is_gone(role: Role, restarts: int, again: bool) -> None:
    assert on_lost(role, restarts) is again


@pytest.mark.parametrize(
    ("role", "restarts", "again"),
    [
        (Role.ADOPTER, 0, True),  # our upload landed in the draft that replaced ours
        (Role.REUSER, 2, True),
        (Role.ADOPTER, 3, False),  # bounded
    ],
)
def test_an_upload_of_ours_in_the_replacing_draft_is_judged_from_the_start(
    role: Role, restarts: int, again: bool
) -> None:
    assert on_lost(role, restarts, entangled=True) is again


@pytest.mark.parametrize(
    ("role", "wait"),
    [
        (Role.CREATOR, False),  # the journal says this job made it
        (Role.OWNER, True),  # only this build's packages, but maybe a twin's (or an overlap)
        (Role.ADOPTER, True),  # empty: maybe a live publisher's first upload is on its way
        (Role.REUSER, True),
    ],
)
def test_who_watches_a_found_draft_before_writing(role: Role, wait: bool) -> None:
    assert wait_before_using(role) is wait


CONTAMINATED_TABLE = [
    # (the draft, what this run accepted) -> no rule-keeping publisher will commit it
    (rel(), frozenset(), False),
    (rel(pkg(A, 2)), frozenset(), False),  # only ours
    (rel(pkg(C, 9)), frozenset(), False),  # only theirs: not ours to delete
    (rel(pkg(A, 2), pkg(C, 9)), frozenset(), True),  # ours beside theirs
    (rel(pkg(A, 2), pkg(C, 9)), frozenset({C}), False),  # theirs, accepted (reuse)
    (rel(pkg(A, 2), pkg(B, 3), pkg(C, 9), pkg(X, 1)), frozenset({C}), True),
]


@pytest.mark.parametrize(("draft", "accepted", "dead"), CONTAMINATED_TABLE)
def test_contaminated_table(draft: Release, accepted: frozenset[str], dead: bool) -> None:
    assert contaminated(draft, ours((A, 2, ALL), (B, 3, ALL)), accepted) is dead


AFTER_CREATE_TABLE = [
    (None, AfterCreate.GO_ON),
    (rel(pkg(C, 1)), AfterCreate.GO_ON),
    (rel(pkg(A, 2), pkg(B, 3)), AfterCreate.ALREADY),  # a twin committed this build meanwhile
    (rel(pkg(C, 8)), AfterCreate.REFUSE),  # another, newer build was committed meanwhile
]


@pytest.mark.parametrize(("committed", "after"), AFTER_CREATE_TABLE)
def test_judge_after_create_table(committed: Release | None, after: AfterCreate) -> None:
    assert judge_after_create(committed, ours((A, 2, ALL), (B, 3, ALL))) is after


CREATE_ANSWER_TABLE = [
    # (the draft read after the create, refused with a 400?) -> what it means
    (None, False, CreateAnswer.AGAIN),  # lost answer, no draft: the create never landed
    (rel(), False, CreateAnswer.ADOPT),  # lost answer, a draft: ours (or a twin's), adopt it
    (rel(pkg(A, 2)), False, CreateAnswer.ADOPT),  # a twin already filling it: the start judges
    (rel(), True, CreateAnswer.REJUDGE),  # refused, a draft there: judge it from the start
    (None, True, CreateAnswer.REJUDGE),  # refused, and the draft is gone (committed meanwhile)
]


@pytest.mark.parametrize(("draft", "refused", "answer"), CREATE_ANSWER_TABLE)
def test_judge_create_answer_table(
    draft: Release | None, refused: bool, answer: CreateAnswer
) -> None:
    assert judge_create_answer(draft, refused=refused) is answer


COMMIT_TABLE = [
    (rel(pkg(A, 2), pkg(B, 3)), frozenset(), True),
    (rel(pkg(A, 2)), frozenset(), False),  # part of the build only
    (rel(pkg(A, 2), pkg(B, 3), pkg(C, 9)), frozenset(), False),  # another build's in it
    (rel(pkg(A, 2), pkg(B, 3), pkg(C, 9)), frozenset({C}), True),  # accepted by reuse
    (rel(), frozenset(), False),
]


@pytest.mark.parametrize(("release", "accepted", "mine"), COMMIT_TABLE)
def test_judge_commit_answer_table(release: Release, accepted: frozenset[str], mine: bool) -> None:
    assert judge_commit_answer(release, ours((A, 2, ALL), (B, 3, ALL)), accepted) is mine


def test_already_there_needs_every_sha1() -> None:
    assert already_there(rel(pkg(A, 2)), ours((A, 2, ALL)))
    assert not already_there(rel(pkg(A, 2)), ours((None, 2, ALL)))
    assert not already_there(rel(), ours((A, 2, ALL)))
    assert not already_there(None, ours((A, 2, ALL)))


DIFF_TABLE = [
    ({}, {}, []),
    ({"changelog_en": "one"}, {"changelog_en": "two"}, ["changelog_en"]),
    ({"changelog_en": "one\n"}, {"changelog_en": "one"}, []),  # whitespace is not a difference
    ({"changelog_fa": None}, {"changelog_fa": "x"}, []),  # not reported: not compared
    (
        {"staged_rollout_percentage": 10},
        {"staged_rollout_percentage": 20},
        ["staged_rollout_percentage"],
    ),
    ({"auto_publish": False}, {"auto_publish": True}, ["auto_publish"]),
]


@pytest.mark.parametrize(("committed", "asked", "differences"), DIFF_TABLE)
def test_commit_differences_table(
    committed: dict[str, object], asked: dict[str, object], differences: list[str]
) -> None:
    release = Release(packages=[pkg(A, 2)], **committed)  # type: ignore[arg-type]
    assert commit_differences(release, CommitFields(**asked)) == differences  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("owed", "step", "refused", "completes", "due"),
    [
        (True, StepKind.UPLOAD, False, True, True),  # after the upload completing our build
        (True, StepKind.UPLOAD, False, False, False),  # not between the uploads
        (True, StepKind.UPLOAD, True, False, True),  # refused: does a twin's commit explain it?
        (True, StepKind.COMMIT, False, False, True),  # else just before the commit
        (True, StepKind.CONTESTED, False, False, False),
        (True, StepKind.LOST, False, False, False),  # `_lost` reads it anyway
        (False, StepKind.COMMIT, False, False, False),  # read already, or no create in this run
        (False, StepKind.UPLOAD, True, True, False),
    ],
)
def test_committed_check_due_table(
    owed: bool, step: StepKind, refused: bool, completes: bool, due: bool
) -> None:
    assert committed_check_due(owed, step, refused=refused, completes=completes) is due


def test_a_refused_draft_names_only_the_packages_that_are_not_ours() -> None:
    start = judge_start(
        draft=rel(pkg(A, 2), pkg(C, 9)),
        committed=None,
        published=None,
        ours=ours((A, 2, ALL), (B, 3, ALL)),
        policy="fail",
    )
    assert start.kind is StartKind.REFUSE
    text = str(start.error)
    assert "version 9" in text
    assert "version 2" not in text
    assert "(it also holds 1 file(s) of this build)" in text
    assert "created 2026-12-01 08:00:00, store time" in text
    assert "run again once it is done" in text
