#!/usr/bin/python3
# Signs requests with botocore (Debian's python3-botocore), the signer of the AWS CLI and boto3, for
# aws_sigv4_test.cpp to compare with roadveil's. Reads a JSON list of requests on stdin, writes a JSON list of
# Authorization headers. Each request: method, host, path and query (not encoded), headers, body, service,
# region, amz_date (YYYYMMDDTHHMMSSZ), key, secret, token, unsigned (S3: UNSIGNED-PAYLOAD over https).
import datetime
import json
import sys
from types import SimpleNamespace
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for r in json.load(sys.stdin):
    scheme = "https" if r.get("unsigned") else "http"
    query = "&".join(quote(k, safe="~") + "=" + quote(v, safe="~") for k, v in r["query"])
    url = f"{scheme}://{r['host']}{quote(r['path'], safe='/~')}" + (f"?{query}" if query else "")
    req = AWSRequest(method=r["method"], url=url, headers=dict(r["headers"]), data=r["body"].encode())
    if r.get("unsigned"):  # what an S3 client configured with payload_signing_enabled=False sends
        req.context["client_config"] = SimpleNamespace(s3={"payload_signing_enabled": False})
    when = datetime.datetime.strptime(r["amz_date"], "%Y%m%dT%H%M%SZ")
    auth_class = S3SigV4Auth if r["service"] == "s3" else SigV4Auth
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = when
        dt.datetime.now.return_value = when
        auth_class(Credentials(r["key"], r["secret"], r["token"] or None), r["service"], r["region"]).add_auth(req)
    out.append(req.headers["Authorization"])
json.dump(out, sys.stdout)
