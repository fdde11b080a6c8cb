"""The API's errors in the reader's language, on both backends, over a real HTTP server: the sentence
is translated when the answer is written, and its variable parts (ids, names, values) come back intact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sapper.model.enums import HazardStatus
from sapper.server import create_app
from sapper.testing.server import Demo, Served, seeded, serving

LANGUAGES = {"ru": "ru-RU,ru;q=0.9,en;q=0.5", "ar": "ar"}


@pytest.fixture(scope="module")
def served(module_target: str) -> Iterator[Served]:
    demo: Demo = seeded(module_target)
    with serving(create_app(module_target)) as server:
        yield Served(server.url, module_target, demo)


def feature(**properties: object) -> dict:
    ring = [[30.5, 50.4], [30.501, 50.4], [30.501, 50.401], [30.5, 50.401], [30.5, 50.4]]
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def errors(served: Served, user: str | None, method: str, path: str, **kwargs: object) -> dict[str, dict]:
    """The same request in English, Russian and Arabic: status, body and Content-Language of each."""
    out = {}
    with served.client(user) as client:
        for language, header in {"en": "en", **LANGUAGES}.items():
            answer = client.request(method, path, headers={"Accept-Language": header}, **kwargs)
            out[language] = {"status": answer.status_code, "language": answer.headers.get("content-language")}
            out[language] |= answer.json()
    assert len({v["status"] for v in out.values()}) == 1, out
    assert len({v["code"] for v in out.values()}) == 1, out  # the code is for programs: the same in every language
    assert out["ru"]["language"] == "ru" and out["ar"]["language"] == "ar"
    return out


def test_a_vocabulary_problem_is_translated_with_the_value_and_the_allowed_codes(served: Served) -> None:
    said = errors(served, "super", "POST", "/ogc/collections/hazards/items", json=feature(name="H", status="mined"))
    allowed = ", ".join(status.value for status in HazardStatus)
    assert said["en"]["description"] == f"new hazard: status: unknown hazard status 'mined' (allowed: {allowed})"
    for language in LANGUAGES:
        text = said[language]["description"]
        assert "'mined'" in text and allowed in text  # the value sent and the codes stay as they are
        assert "status" in text and "unknown" not in text and "allowed" not in text, text
    assert said["ru"]["description"].startswith(
        "новый hazard: status: неизвестное значение словаря hazard status: 'mined'"
    )
    assert said["ar"]["description"].startswith(
        "hazard جديد: status: قيمة غير معروفة في المفردات hazard status: 'mined'"
    )


def test_a_record_out_of_range_answers_422_in_the_readers_language(served: Served) -> None:
    said = errors(served, "super", "POST", "/ogc/collections/hazards/items", json=feature(name="H", priority=9))
    assert said["en"]["status"] == 422
    assert said["en"]["description"].endswith("priority 9 is outside 1 (highest) to 5")
    assert said["ru"]["description"].endswith("приоритет 9 вне диапазона от 1 (высший) до 5")
    assert said["ar"]["description"].endswith("الأولوية 9 خارج النطاق من 1 (الأعلى) إلى 5")


def test_a_refusal_names_the_user_and_the_organisations(served: Served) -> None:
    sent = feature(name="H", organisation="mac")
    said = errors(served, "ngo", "POST", "/ogc/collections/hazards/items", json=sent)
    assert said["en"]["status"] == 403
    assert said["en"]["description"] == "ngo writes for organisation 'ngo'; this hazard belongs to 'mac'"
    assert said["ru"]["description"] == "ngo пишет от имени организации 'ngo'; этот hazard принадлежит 'mac'"
    assert said["ar"]["description"] == "ngo يكتب باسم المنظمة 'ngo'؛ هذا الـ hazard تابع لـ 'mac'"


def test_an_unknown_collection_or_layer_answers_404_in_the_readers_language(served: Served) -> None:
    said = errors(served, "super", "GET", "/ogc/collections/minefields/items")
    assert said["en"]["status"] == 404
    assert "/ogc/collections/minefields/items" in said["ru"]["description"]
    assert said["ar"]["description"].startswith("لا شيء في /ogc/collections/minefields/items")
    said = errors(served, "super", "GET", "/api/history/minefield/1")
    assert said["en"]["description"].startswith("unknown layer 'minefield' (known: hazard, ")
    assert said["ru"]["description"].startswith("неизвестный слой 'minefield' (известные: hazard, ")
    assert said["ar"]["description"].startswith("طبقة غير معروفة 'minefield' (المعروفة: hazard, ")


def test_a_model_problem_reads_as_english_and_is_translated_where_it_is_shown() -> None:
    from sapper.i18n.errors import localised
    from sapper.model.errors import InvalidRecord, Problem
    from sapper.model.records import Hazard
    from sapper.store.ranges import range_problems

    columns = {
        "name": ["H"],
        "priority": [7],
        "estimated_items": [0],
        "clearance_depth_cm": [None],
        "reported_on": [None],
    }
    [(row, [problem])] = range_problems(Hazard, columns)
    assert row == 0
    assert problem == "priority 7 is outside 1 (highest) to 5"  # logs, the CLI in English and old callers see text
    nested = Problem("{field}: {problem}", field="status", problem=problem)
    error = InvalidRecord("hazard 3", nested)
    assert str(error) == "hazard 3: status: priority 7 is outside 1 (highest) to 5"
    assert localised(error, "ru") == "hazard 3: status: приоритет 7 вне диапазона от 1 (высший) до 5"
    assert localised(error, "ar") == "hazard 3: status: الأولوية 7 خارج النطاق من 1 (الأعلى) إلى 5"
