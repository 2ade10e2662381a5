#!/usr/bin/env python3
"""Regenerates the encoded Sensors requests (*.form, *.body) from the
readable records (*.records.json), encoding each the way the named SDK does.

    python3 tests/golden/sensors/make_fixtures.py

The expected outputs (*.expected.json) are written by the test itself:
    QUANYU_UPDATE_GOLDEN=1 build/tests/collect_sensors_test
and must be reviewed before they are committed.
"""
import base64
import gzip
import json
import pathlib
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent


def compact(name):
    records = json.loads((HERE / f"{name}.records.json").read_text(encoding="utf-8"))
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def b64(data, url_safe=False, pad=True, line=0, sep="\n"):
    s = (base64.urlsafe_b64encode(data) if url_safe else base64.b64encode(data)).decode()
    if not pad:
        s = s.rstrip("=")
    if line:
        s = sep.join(s[i:i + line] for i in range(0, len(s), line)) + sep
    return s


def q(s):  # encodeURIComponent / URLEncoder
    return urllib.parse.quote(s, safe="")


def gz(data):
    return gzip.compress(data, mtime=0)


CASES = {
    # JS SDK, image beacon: GET /sa.gif?project=default&data=...&ext=crc%3D...
    "web_js_pageview": lambda: "project=default&data=%s&ext=%s" % (
        q(b64(compact("web_js_pageview"))), q("crc=-1193412")),
    # JS SDK, batch_send via XHR: POST data_list=encodeURIComponent(base64(json)).
    "web_js_batch": lambda: "data_list=" + q(b64(compact("web_js_batch"))),
    # Android SDK: POST crc=..&gzip=1&data_list=urlencode(base64(gzip(json))).
    "android_batch_gzip": lambda: "crc=-880234123&gzip=1&data_list=" + q(b64(gz(compact("android_batch_gzip")))),
    # Java server SDK with a MIME base64 encoder: CRLF every 76 characters.
    "java_server_mime": lambda: "data_list=%s&gzip=1" % q(b64(gz(compact("java_server_mime")), line=76, sep="\r\n")),
    # Mini-program SDK (wx.request): POST data_list=encodeURIComponent(base64(json)).
    "miniprogram_profile": lambda: "data_list=" + q(b64(compact("miniprogram_profile"))),
    # A custom client: URL-safe alphabet, no padding, gzip=0.
    "track_signup": lambda: "data=%s&gzip=0" % b64(compact("track_signup"), url_safe=True, pad=False),
    "id_bind_unbind": lambda: "crc=77&gzip=1&data_list=" + q(b64(gz(compact("id_bind_unbind")))),
    "rejections": lambda: "data_list=" + q(b64(compact("rejections"))),
}

BODIES = {
    # An HTTP import posting the JSON array itself.
    "raw_json_body": lambda: compact("raw_json_body").decode("utf-8"),
}

for name, make in CASES.items():
    (HERE / f"{name}.form").write_text(make(), encoding="utf-8")
for name, make in BODIES.items():
    (HERE / f"{name}.body").write_text(make(), encoding="utf-8")
