"""LocalAnswers: in-process task answers waiting for the worker's next round."""
from __future__ import annotations

from engine.runtime import answers
from engine.runtime.answers import LocalAnswers


def test_answers_for_remembered_items_are_resumed_the_rest_posted():
    local = LocalAnswers()
    local.remember("a", 3, {"s": "a"})
    local.add("a", [{"r": 1}])
    local.add("b", [{"r": 2}])
    local.add("a", [{"r": 3}])
    resume, posts = local.take()
    assert list(resume) == ["a"]
    assert (resume["a"].version, resume["a"].snapshot, resume["a"].replies) == (3, {"s": "a"}, [{"r": 1}, {"r": 3}])
    assert posts == [("b", {"r": 2})]
    assert not local and local.take() == ({}, [])


def test_a_resumed_or_forgotten_item_is_not_resumed_again():
    local = LocalAnswers()
    local.remember("a", 1, {})
    local.remember("b", 1, {})
    local.forget("b")
    local.add("a", [{"r": 1}])
    local.take()
    local.add("a", [{"r": 2}])
    local.add("b", [{"r": 3}])
    assert local.take() == ({}, [("a", {"r": 2}), ("b", {"r": 3})])


def test_remembering_again_keeps_the_newest_version():
    local = LocalAnswers()
    local.remember("a", 1, {"v": 1})
    local.remember("a", 2, {"v": 2})
    local.add("a", [{}])
    assert local.take()[0]["a"].version == 2


def test_given_back_replies_come_first_next_time():
    local = LocalAnswers()
    local.add("x", [{"n": 2}])
    local.give_back([("x", {"n": 1})])
    assert local.take()[1] == [("x", {"n": 1}), ("x", {"n": 2})]


def test_an_answer_wakes_the_worker():
    woken = []
    local = LocalAnswers(on_answer=lambda: woken.append(True))
    local.add("a", [{}])
    assert woken == [True] and bool(local)


def test_the_oldest_remembered_items_are_forgotten_first(monkeypatch):
    monkeypatch.setattr(answers, "MAX_REMEMBERED", 2)
    local = LocalAnswers()
    for arn in ("a", "b", "c"):
        local.remember(arn, 1, {})
    for arn in ("a", "b", "c"):
        local.add(arn, [{}])
    resume, posts = local.take()
    assert sorted(resume) == ["b", "c"] and posts == [("a", {})]
