#!/usr/bin/env python3
"""Writes vectors.json: SDK-HMAC-SHA256 signatures computed independently of the Rust code,
with the Python standard library only, following the official SDKs' signer (see
shared/api/API-NOTES.md). Run: python3 make_vectors.py > vectors.json
"""
import hashlib
import hmac
import json
import urllib.parse

ALGORITHM = "SDK-HMAC-SHA256"


def escape(s):
    # quote() keeps A-Za-z0-9 and "_.-~" when safe is empty: exactly the unreserved set.
    return urllib.parse.quote(s, safe="")


def canonical_uri(path):
    segments = [escape(urllib.parse.unquote(seg)) for seg in path.split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs):
    return "&".join(escape(k) + "=" + escape(v) for k, v in sorted(pairs))


def sign(case):
    headers = sorted((k.lower(), v.strip()) for k, v in case["headers"])
    canonical_headers = "".join("%s:%s\n" % (k, v) for k, v in headers)
    signed_headers = ";".join(k for k, _ in headers)
    body_hash = hashlib.sha256(b"").hexdigest()
    canonical_request = "\n".join([
        case["method"],
        canonical_uri(case["path"]),
        canonical_query(case["query"]),
        canonical_headers,
        signed_headers,
        body_hash,
    ])
    string_to_sign = "\n".join([
        ALGORITHM,
        case["date"],
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    signature = hmac.new(case["sk"].encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return dict(case,
                canonical_request=canonical_request,
                string_to_sign=string_to_sign,
                signed_headers=signed_headers,
                signature=signature,
                authorization="%s Access=%s, SignedHeaders=%s, Signature=%s"
                % (ALGORITHM, case["ak"], signed_headers, signature))


PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PATH = "/v3/%s/scheduled-jobs" % PROJECT
CASES = [
    {
        "name": "list with times holding +, paging",
        "method": "GET",
        "host": "gaussdb.cn-north-4.myhuaweicloud.com",
        "path": PATH,
        "query": [["offset", "0"], ["limit", "100"],
                  ["start_time", "2024-03-01T00:00:00+0000"],
                  ["end_time", "2024-03-02T00:00:00+0800"]],
        "date": "20240301T120000Z",
        "ak": "HPUAEXAMPLEAK0000001",
        "sk": "exampleSecretKey0123456789abcdefghijklmn",
        "security_token": None,
    },
    {
        "name": "spaces, tilde, non-ASCII, repeated and empty values, port in host",
        "method": "GET",
        "host": "127.0.0.1:18080",
        "path": PATH,
        "query": [["job_name", "Resize flavor~x"], ["instance_id", "é中+/="],
                  ["status", "Running"], ["status", "Failed"], ["limit", ""]],
        "date": "20241231T235959Z",
        "ak": "AKSPACES0000000000",
        "sk": "sk with spaces & symbols +/=~",
        "security_token": None,
    },
    {
        "name": "temporary credentials with a security token",
        "method": "GET",
        "host": "gaussdb-mysql.cn-east-5.myhuaweicloud.com",
        "path": PATH,
        "query": [["limit", "10"], ["offset", "20"]],
        "date": "20250115T080910Z",
        "ak": "TEMPAK000000000000000",
        "sk": "tempSecret9876543210",
        "security_token": "gQpjbi1ub3J0aC00Temporary+Token/Value==",
    },
    {
        "name": "no query at all",
        "method": "GET",
        "host": "gaussdb.cn-north-4.myhuaweicloud.com",
        "path": PATH,
        "query": [],
        "date": "20240601T000000Z",
        "ak": "AKNOQUERY",
        "sk": "sknoquery",
        "security_token": None,
    },
]


def main():
    out = []
    for case in CASES:
        headers = [["Host", case["host"]], ["X-Sdk-Date", case["date"]],
                   ["X-Project-Id", PROJECT]]
        if case["security_token"]:
            headers.append(["X-Security-Token", case["security_token"]])
        out.append(sign(dict(case, headers=headers, project_id=PROJECT)))
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
