"""The XML documents of the OpenRosa APIs (form list, manifest, submission response) and the
reading of a submitted instance.

Specifications: OpenRosa Form List API, Form Submission API and the OpenRosa request headers
(docs.getodk.org/openrosa-form-list, /openrosa-form-submission, /openrosa-http). Submissions
come from devices in the field, so they are parsed with defusedxml (no entities, no DTDs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree

from sapper.model.errors import SapperError

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
OPENROSA_VERSION = "1.0"


@dataclass(frozen=True)
class FormEntry:
    form_id: str
    name: str
    version: str
    xform: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True)
class MediaEntry:
    filename: str
    body: bytes
    download_url: str


def md5_hash(body: bytes | str) -> str:
    """The ``hash`` OpenRosa asks for: ``md5:`` and the hex digest of the file's bytes."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()


def _xml(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)


def _text(parent: Element, tag: str, value: str) -> None:
    SubElement(parent, tag).text = value


def form_list(forms: list[FormEntry]) -> bytes:
    root = Element("xforms", xmlns=XFORMS_LIST_NS)
    for form in forms:
        node = SubElement(root, "xform")
        _text(node, "formID", form.form_id)
        _text(node, "name", form.name)
        _text(node, "version", form.version)
        _text(node, "hash", md5_hash(form.xform))
        _text(node, "downloadUrl", form.download_url)
        if form.manifest_url:
            _text(node, "manifestUrl", form.manifest_url)
    return _xml(root)


def manifest(files: list[MediaEntry]) -> bytes:
    root = Element("manifest", xmlns=MANIFEST_NS)
    for media in files:
        node = SubElement(root, "mediaFile")
        _text(node, "filename", media.filename)
        _text(node, "hash", md5_hash(media.body))
        _text(node, "downloadUrl", media.download_url)
    return _xml(root)


def response(message: str, nature: str = "submit_success") -> bytes:
    root = Element("OpenRosaResponse", xmlns=RESPONSE_NS)
    SubElement(root, "message", nature=nature).text = message
    return _xml(root)


@dataclass
class Instance:
    """A filled form: its form id and version, instance id, answers, and repeat groups' answers."""

    form_id: str
    version: str
    instance_id: str
    values: dict[str, str] = field(default_factory=dict)
    repeats: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def read_instance(xml: bytes) -> Instance:
    """The answers of a submitted instance; SapperError naming the problem if it is not one."""
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises ParseError or its own refusals of entities and DTDs
        raise SapperError(f"the submission is not well-formed XML ({exc})") from None
    form_id = root.get("id") or ""
    if not form_id:
        raise SapperError("the submission names no form (its root element has no id attribute)")
    instance_id = ""
    values: dict[str, str] = {}
    repeats: dict[str, list[dict[str, str]]] = {}
    for child in root:
        name = _local(child.tag)
        if name == "meta":
            for meta in child:
                if _local(meta.tag) == "instanceID":
                    instance_id = (meta.text or "").strip()
        elif len(child):
            repeats.setdefault(name, []).append({_local(c.tag): (c.text or "") for c in child})
        else:
            values[name] = child.text or ""
    if not instance_id:
        raise SapperError(f"the {form_id} submission has no meta/instanceID")
    return Instance(form_id, root.get("version") or "", instance_id, values, repeats)
