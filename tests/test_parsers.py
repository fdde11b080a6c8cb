"""Property tests of the parsers an import relies on: CSV (WKT and lon/lat), cell values,
mapping files and content keys."""

from __future__ import annotations

import json
import string
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper.formats.csvfile import DELIMITERS, guess_delimiter, parse_lonlat, parse_wkt, read_csv, write_csv
from sapper.formats.keys import content_keys
from sapper.formats.mapping import Mapping, check_mapping, load_mapping, writable_fields
from sapper.formats.values import MISSING, convert_column, convert_value
from sapper.model.enums import Contamination, ItemCategory
from sapper.model.errors import SapperError
from sapper.model.wkt import to_wkt, to_wkt_many
from sapper.store.schema import layer

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Text a user may type in a cell: anything printable, in any script (no control characters).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
NAMES = st.text(string.ascii_letters + "_", min_size=1, max_size=12)
LON = st.floats(-180, 180, allow_nan=False)
LAT = st.floats(-90, 90, allow_nan=False)


def geometries() -> st.SearchStrategy:
    points = st.builds(Point, LON, LAT)
    boxes = st.builds(
        lambda x, y, w, h: box(x, y, x + w, y + h),
        st.floats(-170, 170, allow_nan=False),
        st.floats(-80, 80, allow_nan=False),
        st.floats(1e-6, 5),
        st.floats(1e-6, 5),
    )
    return st.one_of(points, boxes)


# --- CSV -----------------------------------------------------------------------------------


@SETTINGS
@given(
    header=st.lists(NAMES, min_size=1, max_size=5, unique_by=str.casefold).filter(
        lambda names: (
            not {n.casefold() for n in names} & {"wkt", "geometry", "geom", "the_geom", "lon", "lat", "x", "y"}
        )
    ),
    data=st.data(),
)
def test_csv_with_a_wkt_column_reads_back_what_was_written(tmp_path_factory, header: list[str], data) -> None:
    rows = data.draw(
        st.lists(st.tuples(st.lists(TEXT, min_size=len(header), max_size=len(header)), geometries()), max_size=8)
    )
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    write_csv(path, [*header, "wkt"], [[*cells, to_wkt(geom)] for cells, geom in rows])
    source = read_csv(path)
    assert source.fields == header and source.problems == {}
    assert len(source) == len(rows)
    for i, (cells, geom) in enumerate(rows):
        assert source.geometries[i].equals_exact(geom, 0)
        for name, cell in zip(header, cells):
            assert source.columns[name][i] == (cell.strip() or None)  # cells are trimmed; blank is empty


@SETTINGS
@given(points=st.lists(st.tuples(LON, LAT), min_size=1, max_size=20), delimiter=st.sampled_from([",", ";", "\t"]))
def test_lon_lat_columns_give_the_exact_points(
    tmp_path_factory, points: list[tuple[float, float]], delimiter: str
) -> None:
    comma = delimiter != ","  # a semicolon or tab file from a European spreadsheet may use decimal commas
    text = lambda v: repr(v).replace(".", ",") if comma else repr(v)  # noqa: E731
    lines = [delimiter.join(["Longitude", "Latitude", "n"])]
    lines += [delimiter.join([text(x), text(y), str(i)]) for i, (x, y) in enumerate(points)]
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = read_csv(path)
    assert source.fields == ["n"] and source.problems == {}
    assert [(g.x, g.y) for g in source.geometries] == points


@SETTINGS
@given(cells=st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=10))
def test_a_bad_coordinate_is_named_with_its_row_and_column(cells: list[str | None]) -> None:
    lons = np.asarray(cells, dtype=object)
    lats = np.asarray(["34.5"] * len(cells), dtype=object)
    geoms, problems = parse_lonlat(lons, lats, "lon", "lat")
    for i, cell in enumerate(cells):
        try:
            number = float(cell) if cell is not None else None
        except ValueError:
            number = float("nan")
        if cell is None:
            assert problems[i] == "lon is missing" and geoms[i] is None
        elif number != number or number in (float("inf"), float("-inf")):
            assert problems[i] == f"lon: {cell[:37] + '...' if len(cell) > 40 else cell!r} is not a number"
        else:
            assert i not in problems and geoms[i].x == number


@SETTINGS
@given(geoms=st.lists(geometries(), max_size=10), junk=st.lists(TEXT, max_size=3))
def test_wkt_parsing_keeps_good_geometries_and_names_bad_text(geoms: list, junk: list[str]) -> None:
    texts = [to_wkt(g) for g in geoms] + [f"POLYGON (( {j}" for j in junk]
    parsed, problems = parse_wkt(np.asarray(texts, dtype=object), "WKT")
    for i, geom in enumerate(geoms):
        assert parsed[i].equals_exact(geom, 0) and i not in problems
    for k, text in enumerate(texts[len(geoms) :]):
        shown = text if len(text) <= 40 else text[:37] + "..."
        assert problems[len(geoms) + k] == f"WKT: {shown!r} is not WKT geometry"


ANY_FLOAT = st.floats(allow_nan=False, allow_infinity=False)


@SETTINGS
@given(
    points=st.lists(st.builds(Point, ANY_FLOAT, ANY_FLOAT), max_size=10),
    others=st.lists(st.builds(lambda a, b, c: box(a, b, a + abs(c) + 1, b + 1), LON, LAT, ANY_FLOAT), max_size=5),
)
def test_wkt_sapper_writes_reads_back_to_the_same_coordinates(points: list, others: list) -> None:
    for geoms in (points, points + others):
        for text, geom in zip(to_wkt_many(geoms), geoms):
            assert shapely.from_wkt(text).equals_exact(geom, 0), text


@given(names=st.lists(NAMES, min_size=2, max_size=6), delimiter=st.sampled_from(list(DELIMITERS)))
def test_the_delimiter_is_found_from_the_header(names: list[str], delimiter: str) -> None:
    assert guess_delimiter(delimiter.join(names)) == delimiter


# --- cell values -----------------------------------------------------------------------------

HAZARDS, ITEMS = layer("hazard"), layer("item")


def messy(text: str) -> st.SearchStrategy[str]:
    """How people type a vocabulary word: any case, spaces or hyphens for underscores, padding."""
    return st.builds(
        lambda upper, sep, pad: (
            pad + "".join(c.upper() if u else c for c, u in zip(text, upper)).replace("_", sep) + pad
        ),
        st.lists(st.booleans(), min_size=len(text), max_size=len(text)),
        st.sampled_from(["_", " ", "-"]),
        st.sampled_from(["", " ", "  "]),
    )


@given(member=st.sampled_from(list(ItemCategory)), data=st.data())
def test_vocabulary_words_are_read_whatever_their_case_and_separators(member: ItemCategory, data) -> None:
    typed = data.draw(messy(member.value))
    assert convert_value(ITEMS.column("category"), typed, None, None, True) == (member, None)


@given(
    word=TEXT.filter(
        lambda t: (
            t.strip() and t.strip().lower().replace(" ", "_").replace("-", "_") not in {c.value for c in ItemCategory}
        )
    )
)
def test_an_unknown_word_is_refused_with_the_allowed_ones(word: str) -> None:
    value, problem = convert_value(ITEMS.column("category"), word, None, None, True)
    assert (
        value is None
        and problem == f"unknown item category {word!r} (allowed: {', '.join(c.value for c in ItemCategory)})"
    )


@given(number=st.integers(-(10**12), 10**12), form=st.sampled_from(["int", "float", "text", "padded", "decimal"]))
def test_whole_numbers_in_any_form(number: int, form: str) -> None:
    raw = {
        "int": number,
        "float": float(number),
        "text": str(number),
        "padded": f" {number} ",
        "decimal": f"{number}.0",
    }
    assert convert_value(HAZARDS.column("estimated_items"), raw[form], None, None, False) == (number, None)


@given(number=st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
def test_a_fraction_is_not_a_whole_number(number: float) -> None:
    value, problem = convert_value(HAZARDS.column("priority"), number, None, None, False)
    assert value is None and problem == f"{number!r} is not a whole number"


@given(day=st.dates(date(1900, 1, 1), date(2100, 12, 31)), form=st.sampled_from(["iso", "slashes", "format", "moment"]))
def test_dates_in_the_forms_files_use(day: date, form: str) -> None:
    raw = {
        "iso": day.isoformat(),
        "slashes": day.strftime("%Y/%m/%d"),  # how GDAL writes KML dates
        "format": day.strftime("%d/%m/%Y"),
        "moment": f"{day.isoformat()}T10:30:00",
    }[form]
    fmt = "%d/%m/%Y" if form == "format" else None
    assert convert_value(HAZARDS.column("reported_on"), raw, None, fmt, False) == (day, None)


@given(
    table=st.dictionaries(TEXT.filter(str.strip), st.sampled_from(list(Contamination)), min_size=1, max_size=6),
    data=st.data(),
)
def test_value_maps_match_trimmed_and_case_insensitively(table: dict[str, Contamination], data) -> None:
    mapping = Mapping(values={"contamination": {k: v.value for k, v in table.items()}})
    folded = mapping.value_map("contamination")
    source, member = data.draw(st.sampled_from(sorted(table.items())))
    if sum(1 for k in table if k.strip().casefold() == source.strip().casefold()) > 1:
        return  # two keys that differ only in case: the last one wins, as in any table
    typed = data.draw(st.sampled_from([source, source.upper(), source.lower(), f"  {source} "]))
    if typed.strip().casefold() != source.strip().casefold():
        return  # upper/lower of some scripts changes length (e.g. 'ß')
    assert convert_value(HAZARDS.column("contamination"), typed, folded, None, True) == (member, None)


def test_empty_cells_keep_defaults_or_are_missing() -> None:
    assert convert_value(HAZARDS.column("priority"), " ", None, None, False) == (MISSING, None)
    assert convert_value(ITEMS.column("category"), None, None, None, True) == (None, "is missing")
    assert convert_value(HAZARDS.column("clearance_depth_cm"), "", None, None, False) == (None, None)
    assert convert_value(HAZARDS.column("notes"), None, None, None, False) == ("", None)


# --- mapping files -----------------------------------------------------------------------------


def toml_text(data: dict) -> str:
    """A small TOML writer for tests (JSON strings are TOML basic strings without control characters)."""
    q = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    lines = [f"{k} = {q(data[k])}" for k in ("id", "id_prefix", "crs", "date_format") if k in data]
    for table in ("fields", "constants"):
        if table in data:
            lines.append(f"[{table}]")
            lines += [f"{q(k)} = {q(v)}" for k, v in data[table].items()]
    for name, table in data.get("values", {}).items():
        lines.append(f"[values.{q(name)}]")
        lines += [f"{q(k)} = {q(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


WRITABLE = sorted(writable_fields(HAZARDS) - {"source_key"})


@st.composite
def mappings(draw) -> dict:
    targets = draw(st.lists(st.sampled_from(WRITABLE), unique=True, max_size=6))
    sources = draw(st.lists(TEXT.filter(str.strip), unique=True, min_size=len(targets), max_size=len(targets)))
    data: dict = {"fields": dict(zip(sources, targets))}
    if draw(st.booleans()):
        data["id"] = draw(TEXT.filter(lambda t: t.strip() and t not in sources))
        data["id_prefix"] = draw(TEXT)
    if draw(st.booleans()):
        data["constants"] = {"organisation": draw(TEXT), "notes": draw(TEXT)}
    if draw(st.booleans()):
        data["values"] = {
            "contamination": draw(st.dictionaries(TEXT, st.sampled_from([c.value for c in Contamination])))
        }
    return data


@SETTINGS
@given(data=mappings())
def test_a_mapping_reads_the_same_from_toml_and_json(tmp_path_factory, data: dict) -> None:
    folder = tmp_path_factory.mktemp("mapping")
    (folder / "m.toml").write_text(toml_text(data), encoding="utf-8")
    (folder / "m.json").write_text(json.dumps(data), encoding="utf-8")
    from_toml, from_json = load_mapping(folder / "m.toml"), load_mapping(folder / "m.json")
    assert from_toml == from_json
    assert from_toml.fields == data["fields"] and from_toml.id_field == data.get("id")
    check_mapping(from_toml, HAZARDS)  # every name it uses is a field of the layer


@SETTINGS
@given(data=mappings(), wrong=NAMES.filter(lambda n: n not in WRITABLE and n != "source_key"))
def test_a_mapping_naming_an_unknown_field_says_which(tmp_path_factory, data: dict, wrong: str) -> None:
    data["fields"]["SOMEWHERE"] = wrong
    path = tmp_path_factory.mktemp("mapping") / "m.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    with pytest.raises(SapperError, match=f"fields.SOMEWHERE: '{wrong}' (is not a field of hazard|is kept by)"):
        check_mapping(load_mapping(path), HAZARDS)


def test_a_broken_mapping_file_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[fields]\nNAME = "name"\nSTATUS = \n')
    with pytest.raises(SapperError, match=r"mapping file .*m.toml: .*line 3"):
        load_mapping(path)
    path.write_text('colour = "red"\n')
    with pytest.raises(SapperError, match=r"unknown key 'colour'"):
        load_mapping(path)


# --- content keys -------------------------------------------------------------------------------


@SETTINGS
@given(rows=st.lists(st.tuples(TEXT, st.integers(1, 5), geometries()), min_size=1, max_size=12), data=st.data())
def test_content_keys_do_not_depend_on_row_order_or_ring_direction(rows: list, data) -> None:
    def keys(ordered: list) -> list[str]:
        return content_keys(
            {"name": [r[0] for r in ordered], "priority": [r[1] for r in ordered]},
            np.asarray([r[2] for r in ordered], dtype=object),
        )

    first = keys(rows)
    order = data.draw(st.permutations(range(len(rows))))
    turned = [(n, p, shapely.reverse(g)) for n, p, g in (rows[i] for i in order)]
    again = keys(turned)
    assert sorted(first) == sorted(again)
    assert len(set(first)) == len(first)  # identical rows get #2, #3...
    cm = [shapely.transform(shapely.normalize(g), lambda xy: np.round(xy, 7) + 0.0) for _, _, g in rows]  # 1e-7 degree
    distinct = {(n, p, g.wkb) for (n, p, _), g in zip(rows, cm)}
    assert len({k.split("#")[0] for k in first}) == len(distinct)


CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "uxo", "UXO", " ap-mine ", "banana", "1", "2.0"]),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=False, width=32).map(lambda f: f + 0.0),  # 0.0 and -0.0: one key
    st.booleans(),
)


@SETTINGS
@given(
    cells=st.lists(CELLS, max_size=40),
    field=st.sampled_from([("item", "category"), ("hazard", "priority"), ("hazard", "name"), ("item", "depth_cm")]),
)
def test_a_column_converts_as_its_cells_do_one_by_one(cells: list[Any], field: tuple[str, str]) -> None:
    """Each distinct value is converted once: the column's values and problems are the cells' own."""
    column = layer(field[0]).column(field[1])
    values = np.empty(len(cells), dtype=object)
    values[:] = cells
    out, problems = convert_column(column, values, required=True)
    alone = [convert_value(column, cell, None, None, True) for cell in cells]
    assert out == [value for value, _ in alone]
    assert problems == {i: f"{column.name}: {p}" for i, (_, p) in enumerate(alone) if p is not None}
