"""moto_server.py - Python's moto server (S3, IAM, STS, Redshift's control plane on one port)
with its SigV4 signature check made to see the request URI as the client sent it.

moto 5.2.1 checks a signature against werkzeug's `request.url`, which is rebuilt from the
decoded path and then passed through uri_to_iri: a correctly signed request whose path or
query holds `%2F`, `+`, `'`, `?` or non-ASCII bytes (a key like `a+b.json`, `é.json`, or a
ListObjectsV2 prefix with a slash) is refused with SignatureDoesNotMatch. S3's canonical
request uses the path and the query exactly as they are encoded on the wire (SigV4 for S3
does not normalise them), so the check is given the raw request line's URI instead: werkzeug's
server keeps it in the WSGI environ as RAW_URI. Nothing else about moto changes; the signature
is still computed by botocore from moto's own record of the access key's secret.

Usage: moto_server.py HOST PORT
"""

import sys
from urllib.parse import urlsplit

import flask
from moto.core import authorization
from moto.server import main

_original_check = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _check_with_raw_uri(self, iam_request_cls, resource="*"):
    raw = None
    if flask.has_request_context():
        environ = flask.request.environ
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw or not raw.startswith("/"):
        return _original_check(self, iam_request_cls, resource)
    # moto reads only the path and query of self.uri here; routing used it already.
    decoded_uri = self.uri
    parts = urlsplit(decoded_uri)
    self.uri = f"{parts.scheme}://{parts.netloc}{raw}"
    try:
        return _original_check(self, iam_request_cls, resource)
    finally:
        self.uri = decoded_uri


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = _check_with_raw_uri

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: moto_server.py HOST PORT")
    main(["-H", sys.argv[1], "-p", sys.argv[2]])
